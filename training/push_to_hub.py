"""Publish a model folder to the Hugging Face Hub:
``python -m training.push_to_hub --model models/en-de --repo-id USER/NAME [--private]
[--revision BRANCH] [--commit-message MSG]``.

Creates the repo if needed, uploads weights, config, tokenizer, training log, curves and
eval.json, and a model card generated from what was measured (see
:func:`seq2seq.hub.model_card`). The token comes from ``HF_TOKEN`` or the
``huggingface_hub`` login and is never printed.
"""

from __future__ import annotations

import argparse
import sys

from seq2seq import bundle as bundle_lib
from seq2seq.hub import HubError, push


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m training.push_to_hub", description=__doc__)
    parser.add_argument("--model", required=True, help="local model folder")
    parser.add_argument("--repo-id", required=True, help="USER/NAME")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--revision", help="branch to push to (created if needed)")
    parser.add_argument("--commit-message")
    args = parser.parse_args(argv)
    try:
        url = push(args.model, args.repo_id, private=args.private, revision=args.revision,
                   commit_message=args.commit_message)  # fmt: skip
    except (HubError, bundle_lib.BundleError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"pushed {args.model} to {args.repo_id}: {url}")


if __name__ == "__main__":
    main()
