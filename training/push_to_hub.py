"""Publish a model folder to the Hugging Face Hub:
``python -m training.push_to_hub --model models/en-de --repo-id USER/NAME [--private]
[--revision BRANCH] [--commit-message MSG] [--code-url URL]``.

Creates the repo if needed and uploads the model folder in Keras's Hub layout (config.json,
metadata.json, weights, tokenizer; an old-layout folder is converted on the way), the
training log, curves and eval.json, a LICENSE.md naming the training data's licenses, and a
model card generated from what was measured (see :func:`seq2seq.hub.model_card`); its usage
section installs the library from ``--code-url`` (default: this checkout's ``origin`` remote
when that is a web or SSH URL; without either the push stops, rather than publish a card
whose install line leads nowhere). The token comes from ``HF_TOKEN`` or the
``huggingface_hub`` login and is never printed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from seq2seq import bundle as bundle_lib
from seq2seq.hub import HubError, push

ROOT = Path(__file__).resolve().parents[1]


def origin_url() -> str | None:
    """This checkout's ``origin`` remote as an HTTPS URL (``git@host:owner/name`` becomes
    ``https://host/owner/name``), or None without one or for a local path."""
    try:
        url = subprocess.run(
            ["git", "-C", str(ROOT), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except OSError:
        return None
    if ssh := re.fullmatch(r"git@([\w.-]+):(.+)", url):
        return f"https://{ssh[1]}/{ssh[2]}"
    return url if re.match(r"https?://", url) else None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m training.push_to_hub", description=__doc__)
    parser.add_argument("--model", required=True, help="local model folder")
    parser.add_argument("--repo-id", required=True, help="USER/NAME")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--revision", help="branch to push to (created if needed)")
    parser.add_argument("--commit-message")
    parser.add_argument(
        "--code-url",
        help="git URL of this library, for the card's `pip install git+URL` line (default: "
        "the checkout's origin remote, if it is a URL)",
    )
    args = parser.parse_args(argv)
    args.code_url = args.code_url or origin_url()
    if not args.code_url:
        parser.error(
            "--code-url is needed: this checkout has no origin remote with a web or "
            "SSH URL, and the model card's install line must name where the code is"
        )
    try:
        url = push(
            args.model,
            args.repo_id,
            private=args.private,
            revision=args.revision,
            commit_message=args.commit_message,
            code_url=args.code_url,
        )
    except (HubError, bundle_lib.BundleError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"pushed {args.model} to {args.repo_id}: {url}")


if __name__ == "__main__":
    main()
