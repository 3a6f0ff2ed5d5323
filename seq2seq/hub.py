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

import re
from dataclasses import dataclass
from pathlib import Path

from seq2seq import bundle as bundle_lib
from seq2seq.config import NO_ATTENTION, attention_name
from seq2seq.options import DecodeOptions

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
                ref.repo_id,
                revision=ref.revision,
                allow_patterns=[*MODEL_FILES, *EXTRA_FILES, bundle_lib.TOKENIZER_ASSET],
            )
        )
    except Exception as e:  # the client raises many kinds; each gets a readable message
        raise describe_error(e, what) from None
    return folder, folder.name  # the cache keeps each revision under snapshots/<commit sha>


def load(spec: str, precision: str = "float32") -> bundle_lib.Bundle:
    """Load a model by folder or Hub name, to compute in ``precision`` (see
    :data:`seq2seq.bundle.PRECISIONS`); the bundle's ``origin`` says where it came from."""
    ref = parse(spec)
    if ref.folder is not None:
        return bundle_lib.load(ref.folder, precision)
    bundle_lib.check_precision(precision)
    folder, sha = download(ref)
    loaded = bundle_lib.load(folder, precision)
    loaded.origin = (
        f"Hub repo `{ref.repo_id}` at revision `{ref.revision or 'main'}` (commit {sha})"
    )
    loaded.metadata = {**loaded.metadata, "hub": {"repo_id": ref.repo_id, "commit": sha}}
    return loaded


# --- push -------------------------------------------------------------------------

CARD_FILE = "README.md"
LICENSE_FILE = "LICENSE.md"
EXAMPLES = {
    "en": "Thank you very much.",
    "de": "Vielen Dank.",
    "fr": "Merci beaucoup.",
    "zh": "非常感谢。",
}
SPDX = "https://spdx.org/licenses/{}.html"


def model_card(folder: str | Path, repo_id: str, code_url: str):
    """The Hub model card of a folder (a ``huggingface_hub.ModelCard``; ``str()`` is the
    README.md): card data with a model-index (BLEU and chrF with their sacreBLEU
    signatures), the training data's licenses, and how to install and load the model."""
    from huggingface_hub import ModelCard, ModelCardData

    folder = Path(folder)
    spec, meta = bundle_lib.read_config(folder)
    model = spec["config"]["model_config"]
    src, tgt = model["src_lang"], model["tgt_lang"]
    evaluation = bundle_lib.read_evaluation(folder)
    licenses = sorted({s["license"] for s in meta.get("data_sources", {}).values()})
    data = ModelCardData(
        language=[src, tgt],
        library_name="keras",
        pipeline_tag="translation",
        license="other",
        license_name=license_name(licenses),
        license_link=LICENSE_FILE,
        tags=["translation", "seq2seq", "attention", "rnn", "keras", f"{src}-{tgt}"],
        model_name=repo_id,
        eval_results=_eval_results(evaluation, src, tgt) if evaluation else None,
    )
    body = [
        f"# {repo_id}: {src}→{tgt} RNN encoder–decoder with attention",
        "",
        *_description(model, meta, evaluation),
        *_provenance(meta, licenses),
        *_usage(
            repo_id,
            code_url,
            EXAMPLES.get(src, "..."),
            DecodeOptions.for_model(meta).length_penalty,
        ),
    ]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body))


def license_name(licenses: list[str]) -> str:
    """``license_name`` of the card: the training data's licenses, as a Hub slug."""
    return "-and-".join(x.lower() for x in licenses or ["unknown"]) + "-training-data"


def search_setting(evaluation: dict) -> str:
    """``beam 5, α 1.0``: how an ``eval.json`` decoded (older ones name no α)."""
    alpha = evaluation.get("length_penalty")
    return f"beam {evaluation['beam_size']}" + ("" if alpha is None else f", α {alpha:g}")


def _eval_results(evaluation: dict, src: str, tgt: str) -> list:
    from huggingface_hub import EvalResult

    common = dict(
        task_type="translation",
        task_name=f"Translation {src}-{tgt}",
        dataset_type="debian-packaged-parallel-text",
        dataset_name=f"{src}-{tgt} test split ({evaluation['sentences']} sentences)",
        dataset_split="test",
    )
    setting = search_setting(evaluation)
    return [
        EvalResult(
            **common,
            metric_type="bleu",
            metric_value=evaluation["bleu"],
            metric_name=f"BLEU (sacreBLEU, {setting})",
            metric_args={"signature": evaluation["bleu_signature"]},
        ),
        EvalResult(
            **common,
            metric_type="chrf",
            metric_value=evaluation["chrf"],
            metric_name=f"chrF (sacreBLEU, {setting})",
            metric_args={"signature": evaluation["chrf_signature"]},
        ),
    ]


def _description(model: dict, meta: dict, evaluation: dict | None) -> list[str]:
    cell = model["cell"].upper()
    attention = attention_name(model["attention"])
    if model["attention"] == NO_ATTENTION:
        attention += " (one fixed context, the encoder's final states, at every step)"
    lines = [
        f"A Keras 3 model of {meta.get('parameters', 0):,} parameters: embedding → "
        f"bidirectional {cell} encoder → {cell} decoder with input feeding and "
        f"{attention}, joint SentencePiece vocabulary of "
        f"{model['vocab_size']} (`{bundle_lib.TOKENIZER_FILE}`).",
        "",
    ]
    if evaluation:
        lines += [
            f"**Test BLEU {evaluation['bleu']}, chrF {evaluation['chrf']}** ("
            f"{search_setting(evaluation)}, "
            f"{evaluation['sentences']} sentences).",
            f"`{evaluation['bleu_signature']}`",
            f"`{evaluation['chrf_signature']}`",
            "",
        ]
        lines += [
            f"- {name}: BLEU {s['bleu']}, chrF {s['chrf']} ({s['sentences']} sentences)"
            for name, s in evaluation.get("per_source", {}).items()
        ]
        lines.append("")
    return lines


def _provenance(meta: dict, licenses: list[str]) -> list[str]:
    sources = meta.get("data_sources", {})
    lines = []
    if sources:
        lines += [
            "## Training data and license",
            "",
            "Human translations from Debian packages:",
            "",
        ]
        lines += [
            f"- **{n}**: {s['description']} ({s['license']}, {s['train_pairs']} pairs)"
            for n, s in sources.items()
        ]
        lines += [
            "",
            f"The weights are derived from this text, so the card says `license: other` and "
            f"names the data's licenses ({', '.join(licenses)}); see "
            f"[{LICENSE_FILE}]({LICENSE_FILE}).",
            "",
        ]
    if meta.get("trained_on"):
        lines += [f"Trained on: {meta['trained_on']}.", ""]
    return lines


def _usage(repo_id: str, code_url: str, example: str, alpha: float) -> list[str]:
    """``alpha``: the model's length penalty, which Keras alone does not read."""
    return [
        "## Use",
        "",
        "Install the library that defines the model's layers and its beam search:",
        "",
        "```bash",
        f'pip install "git+{code_url}"',
        "```",
        "",
        "With Keras (importing `seq2seq.translator` registers the model's classes):",
        "",
        "```python",
        "import keras",
        "from seq2seq.translator import Translator  # registers the model's Keras classes",
        "",
        f'model = keras.saving.load_model("hf://{repo_id}")',
        "translator = Translator.for_model(model)  # Keras reads no metadata.json: give α",
        f'print(translator.translate_texts(["{example}"], beam_size=5, length_penalty={alpha:g}))',
        "```",
        "",
        "With the library's translator (a revision, n-best lists, attention weights):",
        "",
        "```python",
        "from seq2seq.translator import Translator",
        "",
        f'translator = Translator.load("{repo_id}")  # or "{repo_id}@REVISION"',
        f'print(translator.translate_texts(["{example}"], beam_size=5))',
        "```",
        "",
        f"From a shell: `seq2seq-translate --model {repo_id} < input.txt`.",
        "",
    ]


def license_text(folder: str | Path) -> str:
    """LICENSE.md for the Hub repo: which licenses the training data carries."""
    _, meta = bundle_lib.read_config(folder)
    sources = meta.get("data_sources", {})
    lines = [
        "# License of these weights",
        "",
        "These weights were trained on the texts below and are derived from them. No other",
        "license is granted: whoever uses or redistributes the weights must follow the terms",
        "of the licenses of the data they were trained on.",
        "",
    ]
    lines += [
        f"- {n}: {s['description']}: [{s['license']}]({SPDX.format(s['license'])})"
        for n, s in sources.items()
    ] or ["- (no data sources recorded)"]
    return "\n".join(lines) + "\n"


def push(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    token: str | None = None,
    code_url: str,
) -> str:
    """Create the repo if needed and upload the model folder (in the new layout, whatever
    the folder's), a generated model card and LICENSE.md.

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
    contents = {
        **bundle_lib.config_files(folder),
        CARD_FILE: str(model_card(folder, repo_id, code_url)).encode("utf-8"),
        LICENSE_FILE: license_text(folder).encode("utf-8"),
    }
    operations = [CommitOperationAdd(name, content) for name, content in contents.items()]
    operations += [
        CommitOperationAdd(name, str(folder / name))
        for name in MODEL_FILES + EXTRA_FILES
        if name not in contents and (folder / name).is_file()
    ]
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision and revision != "main":
            api.create_branch(repo_id, branch=revision, exist_ok=True)
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
