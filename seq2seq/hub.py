"""Models on the Hugging Face Hub: name resolution, download (pull), upload (push), model card.

A model may be named by a local folder, ``USER/NAME``, ``USER/NAME@REVISION`` (branch, tag
or commit) or ``hf://USER/NAME[@REVISION]``. An existing local folder wins over a repo id of
the same spelling. Downloads go through ``huggingface_hub.snapshot_download`` (its cache,
so ``HF_HUB_OFFLINE=1`` works once a model was pulled) and fetch only the files a model
folder has; loading then validates them (:func:`seq2seq.bundle.load`): nothing from a repo
is ever executed.

The token comes from ``HF_TOKEN`` or the ``huggingface_hub`` login and is never printed.
``huggingface_hub`` reads ``HF_ENDPOINT`` when first imported, so it is imported lazily.

Not for: the model folder format itself (see :mod:`seq2seq.bundle`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from seq2seq import bundle as bundle_lib

MODEL_FILES = bundle_lib.MODEL_FILES
EXTRA_FILES = bundle_lib.EXTRA_FILES
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class HubError(RuntimeError):
    """A Hub operation that failed, with a message that says why and what to do."""


@dataclass
class ModelRef:
    """Where a model comes from: a local folder, or a Hub repo at a revision."""

    spec: str
    folder: Path | None = None
    repo_id: str = ""
    revision: str | None = None


def parse(spec: str) -> ModelRef:
    """Interpret a model name (see the module docstring)."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return ModelRef(spec, folder=path)
    name = spec.removeprefix("hf://")
    repo_id, _, revision = name.partition("@")
    if not _REPO_ID.match(repo_id):
        raise HubError(f"{spec!r} is neither an existing folder nor a Hub repo id (USER/NAME)")
    return ModelRef(spec, repo_id=repo_id, revision=revision or None)


def describe_error(error: Exception, what: str) -> HubError:
    """Turn a huggingface_hub / network exception into a message for people."""
    from huggingface_hub import constants, errors

    endpoint = constants.ENDPOINT
    status = getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(error, errors.RevisionNotFoundError):
        return HubError(f"{what}: no such revision ({error.__class__.__name__})")
    if isinstance(error, errors.RepositoryNotFoundError) or status == 404:
        return HubError(f"{what}: repository not found, or private and the token has no access")
    if status in (401, 403):
        return HubError(
            f"{what}: not allowed (HTTP {status}): the token is missing or invalid, or the "
            "repository belongs to someone else"
        )
    if status == 429:
        return HubError(f"{what}: rate-limited by the Hub (HTTP 429); try again later")
    if isinstance(error, errors.LocalEntryNotFoundError):
        return HubError(
            f"{what}: not in the local cache and the Hub ({endpoint}) cannot be reached "
            "(offline, or HF_HUB_OFFLINE=1)"
        )
    # Transport failures of whichever httpx flavour huggingface_hub uses (httpx / httpx2).
    transport = any(c.__name__ == "TransportError" for c in type(error).__mro__)
    if (transport or isinstance(error, (OSError, errors.HfHubHTTPError))) and status is None:
        return HubError(f"{what}: cannot reach the Hub at {endpoint} ({type(error).__name__})")
    return HubError(f"{what}: {type(error).__name__}: {error}")


def download(ref: ModelRef) -> tuple[Path, str]:
    """Fetch a repo's model files into the cache; returns (folder, resolved commit sha)."""
    from huggingface_hub import snapshot_download

    what = f"{ref.spec}: no such local folder; as Hub repo {ref.repo_id}@{ref.revision or 'main'}"
    try:
        folder = Path(
            snapshot_download(
                ref.repo_id, revision=ref.revision, allow_patterns=MODEL_FILES + EXTRA_FILES
            )
        )
    except Exception as e:  # the client raises many kinds; each gets a readable message
        raise describe_error(e, what) from None
    return folder, folder.name  # the cache keeps each revision under snapshots/<commit sha>


def load(spec: str) -> bundle_lib.Bundle:
    """Load a model by folder or Hub name; the bundle's ``origin`` says where it came from."""
    ref = parse(spec)
    if ref.folder is not None:
        return bundle_lib.load(ref.folder)
    folder, sha = download(ref)
    loaded = bundle_lib.load(folder)
    loaded.origin = (
        f"Hub repo `{ref.repo_id}` at revision `{ref.revision or 'main'}` (commit {sha})"
    )
    loaded.metadata = {**loaded.metadata, "hub": {"repo_id": ref.repo_id, "commit": sha}}
    return loaded


# --- push -------------------------------------------------------------------------


def model_card(folder: Path, repo_id: str) -> str:
    """README.md for the Hub: YAML metadata with a model-index, provenance and usage."""
    spec, meta = bundle_lib.read_config(folder)
    model = spec["config"]["model_config"]
    eval_path = folder / bundle_lib.EVAL_FILE
    evaluation = json.loads(eval_path.read_text()) if eval_path.is_file() else None
    src, tgt = model["src_lang"], model["tgt_lang"]
    sources = meta.get("data_sources", {})
    licenses = sorted({s["license"] for s in sources.values()})
    yaml = [
        "---",
        "library_name: keras",
        "pipeline_tag: translation",
        f"language: [{src}, {tgt}]",
        "license: other",
        f"license_name: training-data-{'-and-'.join(licenses).lower() or 'unknown'}",
        "tags: [translation, seq2seq, attention, rnn, keras]",
    ]
    if evaluation:
        yaml += [
            "model-index:",
            f"- name: {repo_id}",
            "  results:",
            "  - task: {type: translation, name: Translation " + f"{src}-{tgt}" + "}",
            "    dataset: {type: debian-packaged-parallel-text, name: "
            + f"{evaluation['direction']} test split ({evaluation['sentences']} sentences)"
            + "}",
            "    metrics:",
            f"    - {{type: bleu, value: {evaluation['bleu']}, name: BLEU (sacreBLEU, beam "
            f'{evaluation["beam_size"]}), args: "{evaluation["bleu_signature"]}"}}',
            f"    - {{type: chrf, value: {evaluation['chrf']}, name: chrF (sacreBLEU), "
            f'args: "{evaluation["chrf_signature"]}"}}',
        ]
    yaml.append("---")
    body = [
        f"# {repo_id}: {src}→{tgt} RNN encoder–decoder with attention",
        "",
        f"A Keras 3 model of {meta.get('parameters', 0):,} parameters: embedding → bidirectional "
        f"{model['cell'].upper()} encoder → {model['cell'].upper()} decoder with input feeding "
        f"and {model['attention']} attention, joint SentencePiece vocabulary of "
        f"{model['vocab_size']}.",
        "",
    ]
    if evaluation:
        body += [
            f"**Test BLEU {evaluation['bleu']}, chrF {evaluation['chrf']}** (beam "
            f"{evaluation['beam_size']}, {evaluation['sentences']} sentences).",
            f"`{evaluation['bleu_signature']}`",
            "",
        ]
        for name, s in evaluation.get("per_source", {}).items():
            body.append(
                f"- {name}: BLEU {s['bleu']}, chrF {s['chrf']} ({s['sentences']} sentences)"
            )
        body.append("")
    if sources:
        body += ["## Training data", "", "Human translations from Debian packages:", ""]
        body += [f"- **{n}**: {s['description']} ({s['license']}, {s['train_pairs']} pairs)"
                 for n, s in sources.items()]  # fmt: skip
        body += [
            "",
            "The model is derived from this text; its license terms follow the data's.",
            "",
        ]
    if meta.get("trained_on"):
        body += [f"Trained on: {meta['trained_on']}.", ""]
    body += [
        "## Use",
        "",
        "```python",
        "from seq2seq.translator import Translator  # this project's library",
        f'translator = Translator.load("{repo_id}")',
        'print(translator.translate_texts(["..."], beam_size=5))',
        "```",
        "",
    ]
    return "\n".join(yaml + [""] + body)


def push(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    token: str | None = None,
) -> str:
    """Create the repo if needed and upload the model folder + a generated model card.

    Returns:
        the commit URL.
    """
    from huggingface_hub import CommitOperationAdd, HfApi, get_token

    folder = Path(folder)
    bundle_lib.load(folder)  # refuse to publish a folder that does not load
    token = token or get_token()
    if not token:
        raise HubError("no Hub token: set HF_TOKEN or run `hf auth login`")
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision and revision != "main":
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        files = [n for n in MODEL_FILES + EXTRA_FILES if (folder / n).is_file()]
        operations = [CommitOperationAdd(n, str(folder / n)) for n in files]
        card = model_card(folder, repo_id).encode("utf-8")
        operations.append(CommitOperationAdd("README.md", card))
        info = api.create_commit(
            repo_id,
            operations,
            commit_message=commit_message or f"Upload model from {folder.name}",
            revision=revision,
        )
    except HubError:
        raise
    except Exception as e:
        raise describe_error(e, f"push to {repo_id}") from None
    return info.commit_url
