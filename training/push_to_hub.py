"""Publish a model folder to the Hugging Face Hub:
``python -m training.push_to_hub --model models/en-de --repo-id USER/NAME [--private]
[--revision BRANCH] [--commit-message MSG] [--code-url https://github.com/OWNER/REPO]``.

Creates the repo if needed and uploads the model folder in Keras's Hub layout (config.json,
metadata.json, weights, tokenizer; an old-layout folder is converted on the way), the
training log, curves and eval.json, a LICENSE.md naming the training data's licenses, and a
model card generated from what was measured (see :func:`seq2seq.hub.model_card`); its usage
section installs the library from ``--code-url``. The token comes from ``HF_TOKEN`` or the
``huggingface_hub`` login and is never printed.
"""

from __future__ import annotations

import argparse
import sys

from seq2seq import bundle as bundle_lib
from seq2seq.hub import CODE_URL, HubError, push


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m training.push_to_hub", description=__doc__)
    parser.add_argument("--model", required=True, help="local model folder")
    parser.add_argument("--repo-id", required=True, help="USER/NAME")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--revision", help="branch to push to (created if needed)")
    parser.add_argument("--commit-message")
    parser.add_argument(
        "--code-url",
        default=CODE_URL,
        help="git URL of this library, for the card's `pip install git+URL` line",
    )
    args = parser.parse_args(argv)
    try:
        url = push(args.model, args.repo_id, private=args.private, revision=args.revision,
                   commit_message=args.commit_message, code_url=args.code_url)  # fmt: skip
    except (HubError, bundle_lib.BundleError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"pushed {args.model} to {args.repo_id}: {url}")


if __name__ == "__main__":
    main()
