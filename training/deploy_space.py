"""Deploy the app as a Gradio Space:
``python -m training.deploy_space --space-id USER/NAME [--model-repo USER/MODEL ...]``.

Uploads only what the Space runs: ``app.py``, ``requirements.txt``, ``README.md`` (whose
front matter configures the Space), the ``seq2seq`` package, and either the bundled
``models/`` folders or, with ``--model-repo``, nothing but a ``TRANSLATOR_MODELS`` Space
variable naming the Hub repos the app then downloads at start.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPACE_FILES = ["app.py", "requirements.txt", "README.md", "seq2seq/*.py"]
MODEL_FILES = ["models/*/config.json", "models/*/model.weights.h5", "models/*/tokenizer.model",
               "models/*/eval.json"]  # fmt: skip


def space_files(with_models: bool) -> list[str]:
    """Repository-relative paths that go to the Space."""
    patterns = SPACE_FILES + (MODEL_FILES if with_models else [])
    return sorted(str(p.relative_to(ROOT)) for pat in patterns for p in ROOT.glob(pat))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m training.deploy_space", description=__doc__)
    parser.add_argument("--space-id", required=True, help="USER/NAME of the Space")
    parser.add_argument("--model-repo", action="append", help="Hub model repo (repeatable)")
    parser.add_argument("--private", action="store_true")
    args = parser.parse_args(argv)
    from huggingface_hub import HfApi, get_token

    from seq2seq.hub import HubError, describe_error

    token = get_token()
    if not token:
        print("error: no Hub token: set HF_TOKEN or run `hf auth login`", file=sys.stderr)
        raise SystemExit(1)
    api = HfApi(token=token)
    files = space_files(with_models=not args.model_repo)
    variables = [{"key": "TRANSLATOR_MODELS", "value": ",".join(args.model_repo)}] if (
        args.model_repo) else None  # fmt: skip
    try:
        api.create_repo(args.space_id, repo_type="space", space_sdk="gradio", exist_ok=True,
                        private=args.private, space_variables=variables)  # fmt: skip
        if variables:
            api.add_space_variable(args.space_id, "TRANSLATOR_MODELS", variables[0]["value"])
        info = api.upload_folder(folder_path=ROOT, repo_id=args.space_id, repo_type="space",
                                 allow_patterns=files, commit_message="Deploy the app")  # fmt: skip
    except Exception as e:
        message = e if isinstance(e, HubError) else describe_error(e, f"deploy to {args.space_id}")
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"deployed {len(files)} files to the Space {args.space_id}: {info.commit_url}")


if __name__ == "__main__":
    main()
