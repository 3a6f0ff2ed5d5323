"""Deploy the app as a Gradio Space:
``python -m training.deploy_space --space-id USER/NAME [--model-repo USER/MODEL ...]``.

This is the supported way to put the app on a Space. Pushing this git repository to the
Space by hand is not: the model weights are plain git blobs in its history (no LFS/Xet),
and the Hub refuses such pushes; adding an LFS ``.gitattributes`` now would not change the
history and would make every LFS user's checkout show the weights as modified.
``huggingface_hub`` uploads over HTTP and stores large files in LFS/Xet itself.

Uploads only what the Space runs: ``app.py``, ``requirements.txt``, ``packages.txt`` (Debian
packages: a font with Chinese glyphs for the heat maps), the ``seq2seq`` and ``webapp``
packages,
a ``README.md`` whose front matter configures the Space (this repository's, plus ``tags``
and, with ``--model-repo``, ``models:`` and ``preload_from_hub:``), and either the bundled
``models/`` folders or, with ``--model-repo``, nothing but a ``TRANSLATOR_MODELS`` Space
variable naming the Hub repos the app then loads at start (``preload_from_hub`` puts their
files in the Space image's cache at build time).

Chromium is only for the browser tests, which do not run on a Space: it is not in
``packages.txt``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seq2seq import bundle as bundle_lib

ROOT = Path(__file__).resolve().parents[1]
SPACE_FILES = [
    "app.py",
    "requirements.txt",
    "packages.txt",
    "README.md",
    "seq2seq/*.py",
    "webapp/*.py",
]
# what the app reads
RUNTIME_MODEL_FILES = [*bundle_lib.MODEL_FILES, bundle_lib.SHORTLIST_FILE, bundle_lib.EVAL_FILE]
MODEL_FILES = [f"models/*/{name}" for name in RUNTIME_MODEL_FILES]
SPACE_TAGS = ["translation", "seq2seq", "attention", "keras", "gradio"]


def space_files(with_models: bool) -> list[str]:
    """Repository-relative paths that go to the Space."""
    patterns = SPACE_FILES + (MODEL_FILES if with_models else [])
    return sorted(str(p.relative_to(ROOT)) for pat in patterns for p in ROOT.glob(pat))


def space_readme(model_repos: list[str] | None) -> str:
    """This repository's README.md with the Space's front matter completed: ``tags`` and,
    for models on the Hub, ``models`` (linked from the Space page) and ``preload_from_hub``
    (``"REPO file,file,..."`` entries, downloaded when the Space is built)."""
    from huggingface_hub import SpaceCard

    card = SpaceCard((ROOT / "README.md").read_text(encoding="utf-8"))
    card.data.tags = list(dict.fromkeys([*(card.data.tags or []), *SPACE_TAGS]))
    if model_repos:
        card.data.models = list(model_repos)
        files = ",".join(RUNTIME_MODEL_FILES)
        card.data.preload_from_hub = [f"{repo} {files}" for repo in model_repos]
    return str(card)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m training.deploy_space", description=__doc__)
    parser.add_argument("--space-id", required=True, help="USER/NAME of the Space")
    parser.add_argument("--model-repo", action="append", help="Hub model repo (repeatable)")
    parser.add_argument("--private", action="store_true")
    args = parser.parse_args(argv)
    from huggingface_hub import CommitOperationAdd, HfApi, get_token

    from seq2seq.hub import HubError, describe_error

    token = get_token()
    if not token:
        print("error: no Hub token: set HF_TOKEN or run `hf auth login`", file=sys.stderr)
        raise SystemExit(1)
    api = HfApi(token=token)
    files = space_files(with_models=not args.model_repo)
    readme = space_readme(args.model_repo).encode("utf-8")
    operations = [
        CommitOperationAdd(path, readme if path == "README.md" else str(ROOT / path))
        for path in files
    ]
    variables = (
        [{"key": "TRANSLATOR_MODELS", "value": ",".join(args.model_repo)}]
        if (args.model_repo)
        else None
    )
    try:
        api.create_repo(
            args.space_id,
            repo_type="space",
            space_sdk="gradio",
            exist_ok=True,
            private=args.private,
            space_variables=variables,
        )
        if variables:
            api.add_space_variable(args.space_id, "TRANSLATOR_MODELS", variables[0]["value"])
        info = api.create_commit(
            args.space_id, operations, repo_type="space", commit_message="Deploy the app"
        )
    except Exception as e:
        message = e if isinstance(e, HubError) else describe_error(e, f"deploy to {args.space_id}")
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"deployed {len(files)} files to the Space {args.space_id}: {info.commit_url}")


if __name__ == "__main__":
    main()
