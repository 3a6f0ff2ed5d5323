"""Save and load a model folder: Keras's own folder layout, plus our metadata and tokenizer.

Layout (the one ``keras.saving.save_model(model, folder, zipped=False)`` and
``model.save("hf://USER/NAME")`` write, so ``keras.saving.load_model(folder)`` and
``keras.saving.load_model("hf://USER/NAME")`` load it once ``import seq2seq.model`` has
registered the classes)::

    config.json         the serialized Keras model (keras.saving.serialize_keras_object),
                        without an optimizer
    metadata.json       keras_version, seq2seq_format, tokenizer (its file name), direction,
                        parameters, and provenance (training config, data sources, hardware)
    model.weights.h5    weights only (no optimizer state)
    tokenizer.model     the SentencePiece model (Keras saving puts it in ``assets/``;
                        both places are read)

and, written by training and evaluation, ``shortlist.npz`` (optional: the lexical
shortlist that speeds up decoding, see :mod:`seq2seq.shortlist`), ``training_log.csv``,
``curves.png``, ``eval.json``. Every one of these file names is a constant of this module.

The old layout (``seq2seq_format`` 1: a ``config.json`` that wraps the serialized model as
``{"format_version": 1, "keras_version", "model", "metadata"}``, no ``metadata.json``) still
loads: :func:`read_config` is the one place that converts it, and :func:`upgrade` rewrites
such a folder in the new layout (weights and tokenizer untouched).

Loading uses ``keras.saving.deserialize_keras_object(..., safe_mode=True)``: no lambdas, no
pickles, no code from the folder is executed. A folder whose files are missing or do not
fit together is refused with a message naming the file.

Not for: the Hub (see :mod:`seq2seq.hub`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from seq2seq.model import ASSETS_DIR, Seq2Seq
from seq2seq.options import PRECISIONS
from seq2seq.shortlist import FILENAME as SHORTLIST_FILE
from seq2seq.shortlist import Shortlist
from seq2seq.tokenizer import FILENAME as TOKENIZER_FILE
from seq2seq.tokenizer import Tokenizer

FORMAT_VERSION = 2  # of the folder layout; 1 = config.json wrapping the model
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
# TOKENIZER_FILE, SHORTLIST_FILE (imported above: their modules' own file names)
TOKENIZER_ASSET = f"{ASSETS_DIR}/{TOKENIZER_FILE}"  # where Keras saving puts it
EVAL_FILE = "eval.json"
LOG_FILE = "training_log.csv"
CURVES_FILE = "curves.png"
MODEL_FILES = [CONFIG_FILE, METADATA_FILE, WEIGHTS_FILE, TOKENIZER_FILE]  # needed to load
EXTRA_FILES = [SHORTLIST_FILE, EVAL_FILE, LOG_FILE, CURVES_FILE]  # published when present
FORMAT_KEYS = ("keras_version", "seq2seq_format", "tokenizer", "direction")
WEIGHTS_DIGEST = "weights_sha256"  # metadata.json: SHA-256 of model.weights.h5, checked at load

__all__ = [
    "CONFIG_FILE",
    "CURVES_FILE",
    "EVAL_FILE",
    "EXTRA_FILES",
    "FORMAT_VERSION",
    "LOG_FILE",
    "METADATA_FILE",
    "MODEL_FILES",
    "SHORTLIST_FILE",
    "TOKENIZER_ASSET",
    "TOKENIZER_FILE",
    "WEIGHTS_FILE",
    "PRECISIONS",
    "WEIGHTS_DIGEST",
    "Bundle",
    "BundleError",
    "config_files",
    "load",
    "read_config",
    "read_evaluation",
    "record_weights",
    "save",
    "save_config",
    "tokenizer_path",
    "upgrade",
    "weights_digest",
]


class BundleError(ValueError):
    """A model folder that cannot be loaded; the message names the file."""


@dataclass
class Bundle:
    """A loaded model folder (its model carries the tokenizer too: ``model.tokenizer``)."""

    model: Seq2Seq
    tokenizer: Tokenizer
    metadata: dict = field(default_factory=dict)  # metadata.json
    path: str = ""
    origin: str = ""  # where it came from, for people (e.g. a Hub repo and revision)
    shortlist: Shortlist | None = None  # shortlist.npz, where the folder has one

    @property
    def source(self) -> str:
        return self.origin or f"local folder `{self.path}`"

    @property
    def direction(self) -> str:
        c = self.model.model_config
        return f"{c.src_lang}-{c.tgt_lang}"


# --- save ---------------------------------------------------------------------------


def save(folder: str | Path, model: Seq2Seq, tokenizer: Tokenizer, metadata: dict | None = None):
    """Write config, metadata, weights and tokenizer into ``folder`` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_config(folder, model, metadata)
    tokenizer.save(folder)
    model.save_weights(folder / WEIGHTS_FILE)
    record_weights(folder)


def weights_digest(path: str | Path) -> str:
    """SHA-256 (hex) of a weights file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def record_weights(folder: str | Path) -> None:
    """Write the digest of the folder's weights into its ``metadata.json`` (call after
    every write of ``model.weights.h5``: :func:`load` refuses weights that do not match)."""
    folder = Path(folder)
    update_metadata(folder, **{WEIGHTS_DIGEST: weights_digest(folder / WEIGHTS_FILE)})


def save_config(folder: str | Path, model: Seq2Seq, metadata: dict | None = None) -> None:
    """Write ``config.json`` (the bare serialized model) and ``metadata.json``.

    Args:
        metadata: free-form provenance (training config, data sources, metrics…); the
            format keys (:data:`FORMAT_KEYS`) are set here and win over same-named keys.
    """
    spec = keras.saving.serialize_keras_object(model)
    spec.pop("compile_config", None)  # a model folder carries no optimizer
    spec["config"].pop("dtype", None)  # nor a precision: it loads as asked (see PRECISIONS)
    c = model.model_config
    # A digest is only ever of this folder's own weights (written with them, see save).
    metadata = {k: v for k, v in (metadata or {}).items() if k != WEIGHTS_DIGEST}
    _write_json(Path(folder) / CONFIG_FILE, spec)
    _write_json(Path(folder) / METADATA_FILE, _metadata(f"{c.src_lang}-{c.tgt_lang}", metadata))


def _metadata(direction: str, extra: dict | None) -> dict:
    own = {
        "keras_version": keras.__version__,
        "seq2seq_format": FORMAT_VERSION,
        "tokenizer": TOKENIZER_FILE,
        "direction": direction,
    }
    return {**own, **{k: v for k, v in (extra or {}).items() if k not in FORMAT_KEYS}}


def _json_bytes(data: dict) -> bytes:
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _write_json(path: Path, data: dict) -> None:
    path.write_bytes(_json_bytes(data))


def update_metadata(folder: str | Path, **fields) -> None:
    """Add or replace provenance ``fields`` in a folder's ``metadata.json`` (the format's
    own keys cannot be changed this way)."""
    clash = sorted(set(fields) & set(FORMAT_KEYS))
    if clash:
        raise ValueError(f"{', '.join(clash)}: set by the format, not by hand")
    path = Path(folder) / METADATA_FILE
    _write_json(path, {**_read_json(path), **fields})


# --- load ---------------------------------------------------------------------------


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{path}: missing (not a model folder?)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise BundleError(f"{path}: not a JSON object")
    return data


def read_evaluation(folder: str | Path) -> dict | None:
    """The folder's test scores (``eval.json``, written by ``training.evaluate --output``),
    or None when it has none."""
    path = Path(folder) / EVAL_FILE
    return _read_json(path) if path.is_file() else None


def read_config(folder: str | Path) -> tuple[dict, dict]:
    """The serialized model and the metadata of a folder, in either layout.

    Returns:
        ``(spec, metadata)``: ``spec`` is what ``config.json`` holds in the new layout;
        ``metadata`` what ``metadata.json`` holds (for an old folder: converted from the
        wrapper, with ``seq2seq_format`` 1).
    """
    folder = Path(folder)
    config = _read_json(folder / CONFIG_FILE)
    if "format_version" in config:  # the old layout: config.json wraps the model
        if config["format_version"] != 1 or not isinstance(config.get("model"), dict):
            raise BundleError(f"{folder / CONFIG_FILE}: unknown format_version")
        spec, old = config["model"], config.get("metadata") or {}
        metadata = _metadata(_direction(spec) or old.get("direction", "?"), old)
        metadata.update(keras_version=config.get("keras_version", "?"), seq2seq_format=1)
    else:
        spec, metadata = config, _read_json(folder / METADATA_FILE)
        metadata.setdefault("seq2seq_format", FORMAT_VERSION)  # a folder Keras itself wrote
        if not isinstance(metadata["seq2seq_format"], int):
            raise BundleError(f"{folder / METADATA_FILE}: seq2seq_format is not a number")
        if metadata["seq2seq_format"] > FORMAT_VERSION:
            raise BundleError(
                f"{folder / METADATA_FILE}: seq2seq_format {metadata['seq2seq_format']} is "
                f"newer than this library's ({FORMAT_VERSION}): upgrade the seq2seq package"
            )
    where = folder / (CONFIG_FILE if metadata["seq2seq_format"] == 1 else METADATA_FILE)
    _check_keras_version(where, metadata.get("keras_version", "?"))
    return spec, metadata


def _direction(spec: dict) -> str | None:
    try:
        c = spec["config"]["model_config"]
        return f"{c['src_lang']}-{c['tgt_lang']}"
    except (KeyError, TypeError):
        return None


def _check_keras_version(path: Path, saved: str) -> None:
    if str(saved).split(".")[0] != keras.__version__.split(".")[0]:
        raise BundleError(
            f"{path}: saved with Keras {saved}, this is Keras {keras.__version__} "
            "(major versions differ)"
        )


def config_files(folder: str | Path) -> dict[str, bytes]:
    """``config.json`` and ``metadata.json`` of a folder (either layout) in the new layout,
    as bytes: what :func:`upgrade` writes and what a push uploads."""
    spec, metadata = read_config(folder)
    metadata["seq2seq_format"] = FORMAT_VERSION
    return {CONFIG_FILE: _json_bytes(spec), METADATA_FILE: _json_bytes(metadata)}


def upgrade(folder: str | Path) -> bool:
    """Rewrite an old-layout folder's ``config.json`` in the new layout and add
    ``metadata.json``; weights and tokenizer are not touched. Returns False if the folder
    already has the new layout."""
    folder = Path(folder)
    if "format_version" not in _read_json(folder / CONFIG_FILE):
        return False
    for name, content in config_files(folder).items():
        (folder / name).write_bytes(content)
    return True


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def build_model(spec: dict, path: Path, precision: str = "float32") -> Seq2Seq:
    """Deserialize the model of a config (``safe_mode``) under the dtype policy
    ``precision`` (whatever policy the config names) and create its weights."""
    if not isinstance(spec, dict) or spec.get("class_name") != "Seq2Seq":
        raise BundleError(f"{path}: not a serialized Seq2Seq")
    if isinstance(spec.get("config"), dict):
        spec = {**spec, "config": {**spec["config"], "dtype": check_precision(precision)}}
    try:
        model = keras.saving.deserialize_keras_object(spec, safe_mode=True)
    except Exception as e:  # any malformed config: say which file
        raise BundleError(f"{path}: cannot build the model from its config ({e})") from None
    if not model.built:
        model.build()
    return model


def tokenizer_path(folder: str | Path) -> Path:
    """Where a folder keeps its tokenizer: beside config.json, else in Keras' assets/."""
    folder = Path(folder)
    beside, asset = folder / TOKENIZER_FILE, folder / TOKENIZER_ASSET
    return asset if not beside.is_file() and asset.is_file() else beside


def load(folder: str | Path, precision: str = "float32") -> Bundle:
    """Load a model folder, new or old layout (see the module docstring for its files), to
    compute in ``precision`` (one of :data:`PRECISIONS`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"{folder}: no such model folder")
    spec, metadata = read_config(folder)
    model = build_model(spec, folder / CONFIG_FILE, precision)
    path = tokenizer_path(folder)
    try:
        tokenizer = Tokenizer.load(path.parent)
    except (FileNotFoundError, ValueError) as e:
        raise BundleError(str(e)) from None
    vocab = model.model_config.vocab_size
    if tokenizer.vocab_size != vocab:
        raise BundleError(
            f"{path}: vocabulary of {tokenizer.vocab_size} pieces, "
            f"but {CONFIG_FILE} says vocab_size {vocab}"
        )
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise BundleError(f"{weights}: missing")
    expected = metadata.get(WEIGHTS_DIGEST)
    if expected is not None and weights_digest(weights) != expected:
        raise BundleError(
            f"{weights}: corrupted (its SHA-256 differs from the one {METADATA_FILE} recorded "
            "when it was saved)"
        )
    try:
        model.load_weights(weights)
    except Exception as e:  # truncated / foreign HDF5 files raise many kinds of errors
        raise BundleError(f"{weights}: cannot be loaded ({type(e).__name__}: {e})") from None
    broken = [v.path for v in model.weights if not np.isfinite(keras.ops.convert_to_numpy(v)).all()]
    if broken:
        raise BundleError(f"{weights}: not finite (NaN or infinity) in {', '.join(broken[:3])}")
    model.tokenizer = tokenizer
    return Bundle(model, tokenizer, metadata, str(folder), shortlist=load_shortlist(folder, vocab))


def load_shortlist(folder: Path, vocab_size: int) -> Shortlist | None:
    """The folder's optional shortlist, checked against the vocabulary."""
    path = folder / SHORTLIST_FILE
    try:
        shortlist = Shortlist.load(folder)
    except Exception as e:  # a truncated or foreign file
        raise BundleError(f"{path}: cannot be loaded ({type(e).__name__}: {e})") from None
    if shortlist is not None and (
        shortlist.vocab_size != vocab_size
        or shortlist.candidates.max(initial=-1) >= vocab_size
        or shortlist.frequent.max(initial=0) >= vocab_size
    ):
        raise BundleError(f"{path}: does not match the vocabulary of {vocab_size} pieces")
    return shortlist
