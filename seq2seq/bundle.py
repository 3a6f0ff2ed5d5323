"""Save and load a self-contained model folder.

Layout (the Hugging Face Hub layout too)::

    config.json         format version, Keras version, the serialized Keras model config,
                        languages, and free-form metadata (training data, metrics…)
    model.weights.h5    weights only (no optimizer state)
    tokenizer.model     the SentencePiece model

Loading uses ``keras.saving.deserialize_keras_object(..., safe_mode=True)``: no lambdas, no
pickles, no code from the folder is executed. A folder whose files are missing or do not
fit together is refused with a message naming the file.

Not for: the Hub (see :mod:`seq2seq.hub`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import keras

from seq2seq.model import Seq2Seq
from seq2seq.tokenizer import Tokenizer

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"


class BundleError(ValueError):
    """A model folder that cannot be loaded; the message names the file."""


@dataclass
class Bundle:
    """A loaded model folder."""

    model: Seq2Seq
    tokenizer: Tokenizer
    metadata: dict = field(default_factory=dict)
    path: str = ""
    origin: str = ""  # where it came from, for people (e.g. a Hub repo and revision)

    @property
    def source(self) -> str:
        return self.origin or f"local folder `{self.path}`"

    @property
    def direction(self) -> str:
        c = self.model.model_config
        return f"{c.src_lang}-{c.tgt_lang}"


def save(folder: str | Path, model: Seq2Seq, tokenizer: Tokenizer, metadata: dict | None = None):
    """Write config, weights and tokenizer into ``folder`` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_config(folder, model, metadata)
    tokenizer.save(folder)
    model.save_weights(folder / WEIGHTS_FILE)


def save_config(folder: Path, model: Seq2Seq, metadata: dict | None = None) -> None:
    spec = keras.saving.serialize_keras_object(model)
    spec.pop("compile_config", None)  # a model folder carries no optimizer
    config = {
        "format_version": FORMAT_VERSION,
        "keras_version": keras.__version__,
        "model": spec,
        "metadata": metadata or {},
    }
    (Path(folder) / CONFIG_FILE).write_text(json.dumps(config, indent=1, ensure_ascii=False))


def read_config(folder: Path) -> dict:
    path = Path(folder) / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{path}: missing (not a model folder?)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(config, dict) or config.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{path}: unknown format_version (expected {FORMAT_VERSION})")
    saved_major = str(config.get("keras_version", "?")).split(".")[0]
    if saved_major != keras.__version__.split(".")[0]:
        raise BundleError(
            f"{path}: saved with Keras {config.get('keras_version')}, "
            f"this is Keras {keras.__version__} (major versions differ)"
        )
    return config


def build_model(config: dict, path: Path) -> Seq2Seq:
    spec = config.get("model")
    if not isinstance(spec, dict) or spec.get("class_name") != "Seq2Seq":
        raise BundleError(f"{path}: 'model' is not a serialized Seq2Seq")
    try:
        model = keras.saving.deserialize_keras_object(spec, safe_mode=True)
    except Exception as e:  # any malformed config: say which file
        raise BundleError(f"{path}: cannot build the model from its config ({e})") from None
    if not model.built:
        model.build()
    return model


def load(folder: str | Path) -> Bundle:
    """Load a model folder (see the module docstring for its files)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"{folder}: no such model folder")
    config = read_config(folder)
    model = build_model(config, folder / CONFIG_FILE)
    try:
        tokenizer = Tokenizer.load(folder)
    except (FileNotFoundError, ValueError) as e:
        raise BundleError(str(e)) from None
    vocab = model.model_config.vocab_size
    if tokenizer.vocab_size != vocab:
        raise BundleError(
            f"{folder / 'tokenizer.model'}: vocabulary of {tokenizer.vocab_size} pieces, "
            f"but {CONFIG_FILE} says vocab_size {vocab}"
        )
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise BundleError(f"{weights}: missing")
    try:
        model.load_weights(weights)
    except Exception as e:  # truncated / foreign HDF5 files raise many kinds of errors
        raise BundleError(f"{weights}: cannot be loaded ({type(e).__name__}: {e})") from None
    return Bundle(model, tokenizer, config.get("metadata", {}), str(folder))
