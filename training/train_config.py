"""The config of one training run (:class:`TrainConfig`): its fields and defaults, read
from a JSON file (``training/configs/*.json``); ``jit_compile``, which a file writes as
text, becomes its typed value here, once.

Not for: the command line that overrides the fields (see :func:`training.train.parse_args`)
or the model's shape (see :class:`seq2seq.config.ModelConfig`, the ``model`` part).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainConfig:
    """One training run. Paths are relative to the working directory, except ``run_dir``
    and ``out`` (see :mod:`training.runs`).

    Args:
        direction: ``src-tgt``; the corpus columns are (English, other), so a direction
            whose source is not English reads them reversed.
        train, dev: corpus files (TSV or ``src,tgt`` Moses pair).
        train_extra: more training files (e.g. a pair's supplementary
            ``train-everyday.tsv.gz``, see :mod:`training.corpus`), read like ``train`` and
            added to it; their third column names their sources for ``upsample``.
        out: the model folder written (best dev BLEU); under ``$SEQ2SEQ_RUNS`` if it
            starts with ``runs/``.
        run_dir: checkpoints for ``--resume`` (kept out of the model folder); a relative
            one is under ``$SEQ2SEQ_RUNS`` (default ``~/.cache/seq2seq/runs``).
        vocab_size: subword vocabulary (joint, trained on the training files only).
        character_coverage: share of the training text's characters that get a piece
            of their own (the rest are spelled in bytes); 1.0 keeps every character
            seen, which a script with thousands of them (Chinese) needs.
        max_len: longest pair kept, in subword tokens per side.
        batch_tokens, bucket_step: see :class:`training.batching.BucketedBatches`;
            ``batch_tokens`` is the budget of one step over all devices.
        learning_rate, warmup_steps, clipnorm: Adam, linear warm-up then cosine decay;
            for the global batch, whatever the device count (nothing is rescaled).
        label_smoothing: of the cross-entropy.
        epochs, patience: at most ``epochs``; stop after ``patience`` epochs without a
            better dev BLEU.
        dev_bleu_sentences: dev sentences translated (greedy) for BLEU each epoch; 0 =
            no dev BLEU: the best checkpoint and early stopping follow dev loss instead.
        strategy: ``default`` (one device), ``data_parallel`` (every device of this
            machine; ``mirrored`` is its old name) or ``multi_worker`` (several machines),
            on JAX or TensorFlow: see :mod:`training.distribution`.
        jit_compile: XLA-compile the train step: ``True``, ``False`` or ``"auto"`` (Keras'
            choice); a config file or the command line may write ``"true"``/``"false"``
            (any case), which the config turns into the boolean (:func:`jit_compile_value`).
        precision: ``float32`` or ``mixed_bfloat16`` (bfloat16 matrix products, float32
            variables, softmaxes and loss: ~2x the matrix throughput of TensorFlow's
            oneDNN on CPUs with AVX512_BF16; see :data:`seq2seq.bundle.PRECISIONS`). The
            saved weights are float32 either way, so a run may resume under the other.
        checkpoint_every: also checkpoint every N steps inside an epoch (0 = per epoch).
        verbose: Keras progress output (1 = progress bar, 2 = one line per epoch).
        log_every: log the running training loss and throughput every N steps.
        max_minutes: stop (after finishing the current step) once training has run this
            long; 0 = no limit. The last epoch is then evaluated and checkpointed as usual.
        init_from: a model folder to fine-tune (warm start; ``runs/...`` resolves as
            ``out`` does, so a run may start from another's model): its tokenizer is reused (no
            new one is trained, so the vocabulary matches), its model shape is kept
            (``model`` may change only ``dropout``, or add encoder layers: a higher
            ``enc_layers`` grows the folder's model, see :mod:`training.grow`) and its
            weights are loaded before training (no unigram bias init). ``--resume``
            continues from the run's own checkpoint instead.
        upsample: ``{source: n}``: each training pair from corpus source ``source`` (the
            TSV's third column) is seen ``n`` times an epoch (a whole number; 0 leaves the
            source out, for an ablation), to weigh the domains the dev and test sets hold
            more of than the corpus does.
    """

    direction: str = "en-de"
    train: str = "training/data/en-de/train.tsv.gz"
    dev: str = "training/data/en-de/dev-v1.tsv.gz"
    train_extra: list = field(default_factory=list)
    out: str = "models/en-de"
    run_dir: str = "runs/en-de"
    vocab_size: int = 8000
    character_coverage: float = 0.9995
    max_len: int = 100
    batch_tokens: int = 2500
    bucket_step: int = 8
    learning_rate: float = 1e-3
    warmup_steps: int = 400
    clipnorm: float = 1.0
    label_smoothing: float = 0.1
    epochs: int = 20
    patience: int = 4
    dev_bleu_sentences: int = 500
    seed: int = 1
    strategy: str = "default"
    jit_compile: bool | str = "auto"
    precision: str = "float32"
    checkpoint_every: int = 500
    verbose: int = 1
    log_every: int = 200
    max_minutes: float = 0.0
    init_from: str = ""
    model: dict = field(default_factory=dict)
    upsample: dict = field(default_factory=dict)

    def __post_init__(self):
        self.jit_compile = jit_compile_value(self.jit_compile)

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        data = json.loads(Path(path).read_text())
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise SystemExit(f"{path}: unknown fields {sorted(unknown)}")
        return cls(**data)

    @property
    def languages(self) -> tuple[str, str]:
        src, tgt = self.direction.split("-")
        return src, tgt


def jit_compile_value(value: bool | str) -> bool | str:
    """``jit_compile`` as ``Model.compile`` takes it: ``True``, ``False`` or ``"auto"``, from
    a boolean or the text ``auto``/``true``/``false`` (any case); anything else exits."""
    if isinstance(value, bool):
        return value
    choices = {"auto": "auto", "true": True, "false": False}
    if not isinstance(value, str) or value.lower() not in choices:
        raise SystemExit(f"jit_compile: one of auto, true, false; got {value!r}")
    return choices[value.lower()]
