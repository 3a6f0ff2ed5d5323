"""Train a model folder from a config: ``python -m training.train --config FILE.json``.

Every field of :class:`TrainConfig` (and of its ``model`` part, see
:class:`seq2seq.config.ModelConfig`) can be overridden on the command line:
``--epochs 3 --model.dec_units 256``.

What a run does: reads the corpus (columns chosen by the direction), trains the joint
SentencePiece tokenizer on the training split, builds the model (on the devices that
``--strategy`` names, see :mod:`training.distribution`), trains with length-bucketed
batches, Adam with warm-up + cosine decay and gradient clipping, and after each epoch
computes dev loss and greedy dev BLEU (sacreBLEU) on a dev subset. The best-BLEU weights,
config and tokenizer go to ``out`` together with ``training_log.csv``, ``curves.png`` and,
at the end, the lexical shortlist (:mod:`training.shortlist`); ``--resume`` continues a
stopped run from the last checkpoint kept in ``run_dir``.

Runs live outside the work tree (which may be laid anew while a run goes on for days): a
relative ``run_dir``, and an ``out`` that starts with ``runs/``, are resolved under
``$SEQ2SEQ_RUNS`` (default ``~/.cache/seq2seq/runs``): ``runs/en-zh-ft/run`` is
``~/.cache/seq2seq/runs/en-zh-ft/run``. Absolute paths are used as they are; see
:mod:`training.runs`.

Not for: final evaluation (see :mod:`training.evaluate`).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import sacrebleu

from seq2seq import bundle as bundle_lib
from seq2seq.config import ModelConfig
from seq2seq.model import MaskedCrossEntropy, Seq2Seq
from seq2seq.tokenizer import Tokenizer
from seq2seq.translator import Translator
from training.batching import BucketedBatches, make_examples
from training.corpus import provenance
from training.distribution import make_distribution, this_process_only
from training.evaluate import bleu_tokenize
from training.readers import read_corpus
from training.runs import resolve_out, resolve_run_dir
from training.shortlist import build_for as build_shortlist

log = logging.getLogger("training.train")
LOG_FILE, CURVES_FILE = bundle_lib.LOG_FILE, bundle_lib.CURVES_FILE
TOKENIZER_SENTENCES = 2_000_000  # texts the tokenizer is trained on, at most


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
        jit_compile: XLA-compile the train step (``auto`` = Keras' choice).
        precision: ``float32`` or ``mixed_bfloat16`` (bfloat16 matrix products, float32
            variables, softmaxes and loss: ~2x the matrix throughput of TensorFlow's
            oneDNN on CPUs with AVX512_BF16; see :data:`seq2seq.bundle.PRECISIONS`). The
            saved weights are float32 either way, so a run may resume under the other.
        checkpoint_every: also checkpoint every N steps inside an epoch (0 = per epoch).
        verbose: Keras progress output (1 = progress bar, 2 = one line per epoch).
        log_every: log the running training loss and throughput every N steps.
        max_minutes: stop (after finishing the current step) once training has run this
            long; 0 = no limit. The last epoch is then evaluated and checkpointed as usual.
        init_from: a model folder to fine-tune (warm start): its tokenizer is reused (no
            new one is trained, so the vocabulary matches), its model shape is kept
            (``model`` may change only non-shape fields such as ``dropout``) and its
            weights are loaded before training (no unigram bias init). ``--resume``
            continues from the run's own checkpoint instead.
        upsample: ``{source: n}``: each training pair from corpus source ``source`` (the
            TSV's third column) is seen ``n`` times an epoch (a whole number, at least 1),
            to weigh the domains the dev and test sets hold more of than the corpus does.
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
    jit_compile: str = "auto"
    precision: str = "float32"
    checkpoint_every: int = 500
    verbose: int = 1
    log_every: int = 200
    max_minutes: float = 0.0
    init_from: str = ""
    model: dict = field(default_factory=dict)
    upsample: dict = field(default_factory=dict)

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


CONFIG_FILE_ONLY = ("model", "upsample", "train_extra")  # no command-line flag


def parse_args(argv=None) -> tuple[TrainConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__)
    parser.add_argument("--config", help="JSON file of TrainConfig fields")
    parser.add_argument("--resume", action="store_true", help="continue from run_dir")
    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        if f.name not in CONFIG_FILE_ONLY:
            parser.add_argument(f"--{f.name}", type=type(getattr(defaults, f.name)))
    for f in dataclasses.fields(ModelConfig):
        if f.name not in ("vocab_size", "src_lang", "tgt_lang"):
            kind = f.type if f.type in ("int", "float", "str") else "bool"
            convert = {"int": int, "float": float, "str": str}.get(kind, _bool)
            parser.add_argument(f"--model.{f.name}", dest=f"model__{f.name}", type=convert)
    args = parser.parse_args(argv)
    config = TrainConfig.from_file(args.config) if args.config else TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        value = getattr(args, f.name, None)
        if f.name not in CONFIG_FILE_ONLY and value is not None:
            setattr(config, f.name, value)
    for key, value in vars(args).items():
        if key.startswith("model__") and value is not None:
            config.model[key.removeprefix("model__")] = value
    return config, args


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def read_pairs(path: str, config: TrainConfig):
    src, _ = config.languages
    pairs, report = read_corpus(path, reverse=src != "en")
    log.info("%s", report.summary())
    return pairs


def read_training_pairs(config: TrainConfig) -> list:
    """``config.train`` followed by the pairs of every ``config.train_extra`` file."""
    pairs = read_pairs(config.train, config)
    for path in config.train_extra:
        pairs += read_pairs(path, config)
    return pairs


def data_sources(config: TrainConfig) -> dict:
    """Per source of ``train`` and ``train_extra``: description, license, training pairs."""
    sources: dict = {}
    for path in [config.train, *config.train_extra]:
        for name, entry in provenance(path).items():
            if name in sources:
                entry = {
                    **entry,
                    "train_pairs": sources[name]["train_pairs"] + entry["train_pairs"],
                }
            sources[name] = entry
    return sources


def upsampled(pairs: list, weights: dict) -> list:
    """``pairs`` with each pair of a source named in ``weights`` repeated that many times."""
    for name, n in weights.items():
        if type(n) is not int or n < 1:
            raise SystemExit(f"upsample: {name!r} must be a whole number of at least 1, got {n!r}")
    missing = set(weights) - {p.origin for p in pairs}
    if missing:
        raise SystemExit(f"upsample: no training pair comes from {sorted(missing)}")
    out = [p for p in pairs for _ in range(weights.get(p.origin, 1))]
    if weights:
        log.info("upsample %s: %d training pairs an epoch (%d distinct)", weights, len(out),
                 len(pairs))  # fmt: skip
    return out


def unigram_log_probs(examples, vocab_size: int) -> np.ndarray:
    """Log frequency of each target token (add-one): the output bias to start from, so the
    first updates need not learn word frequencies through the rest of the network."""
    counts = np.ones(vocab_size)
    for _, _, tgt_out in examples:
        np.add.at(counts, tgt_out, 1)
    return np.log(counts / counts.sum()).astype("float32")


class DevBleu(keras.callbacks.Callback):
    """Greedy-decode a dev subset after each epoch and put ``dev_bleu`` into the logs."""

    def __init__(self, tokenizer, sources, references):
        super().__init__()
        self.tokenizer, self.sources, self.references = tokenizer, sources, references
        self.translator = None

    def on_train_begin(self, logs=None):
        # One translator for the run: its compiled graphs (one per shape bucket, on every
        # backend that compiles) read the current weights and are reused by every epoch.
        bundle = bundle_lib.Bundle(self.model, self.tokenizer)
        self.translator = Translator(bundle)

    def on_epoch_end(self, epoch, logs=None):
        start = time.time()
        hypotheses = self.translator.translate_texts(self.sources, beam_size=1, split=False)
        tokenize = bleu_tokenize(self.model.model_config.tgt_lang)
        bleu = sacrebleu.corpus_bleu(hypotheses, [self.references], tokenize=tokenize)
        logs["dev_bleu"] = round(bleu.score, 2)
        log.info(
            "epoch %d: dev BLEU %.2f on %d sentences (greedy, %.0fs); e.g. %r -> %r",
            epoch + 1, bleu.score, len(self.sources), time.time() - start,
            self.sources[0], hypotheses[0],
        )  # fmt: skip


class Throughput(keras.callbacks.Callback):
    """Target tokens per second of the training part of each epoch (``tgt_tok_per_s``)."""

    def __init__(self, target_tokens: int, batches: int, every: int = 200):
        super().__init__()
        self.target_tokens, self.batches, self.every = target_tokens, batches, every

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.train_seconds, self.done = time.time(), None, 0

    def on_train_batch_end(self, batch, logs=None):
        self.done = batch + 1
        if (batch + 1) % self.every == 0:
            rate = self.target_tokens * (batch + 1) / self.batches / (time.time() - self.start)
            log.info("step %d/%d: loss %.3f, ~%.0f target tokens/s", batch + 1, self.batches,
                     (logs or {}).get("loss", float("nan")), rate)  # fmt: skip

    def on_test_begin(self, logs=None):
        self.train_seconds = time.time() - self.start

    def on_epoch_end(self, epoch, logs=None):
        seconds = self.train_seconds or (time.time() - self.start)
        # An epoch cut short (time limit) ran only part of the batches.
        tokens = self.target_tokens * min(1.0, self.done / max(self.batches, 1))
        logs["tgt_tok_per_s"] = round(tokens / seconds)
        logs["epoch_train_s"] = round(seconds)
        log.info(
            "epoch %d: %.0f target tokens/s (%.0f s)", epoch + 1, logs["tgt_tok_per_s"], seconds
        )


class SaveBestWeights(keras.callbacks.Callback):
    """Write the model's weights, without optimizer state, whenever ``monitor`` improves.

    (``model.save_weights`` of a compiled model also stores the Adam moments, three
    times the size; a fresh copy of the model has none.)
    """

    def __init__(self, path: Path, monitor: str, mode: str, best: float | None = None):
        super().__init__()
        self.path, self.monitor, self.mode, self.best = path, monitor, mode, best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        better = self.best is None or (
            value > self.best if self.mode == "max" else value < self.best
        )
        if better:
            self.best = value
            export_weights(self.model, self.path)
            bundle_lib.record_weights(self.path.parent)
            log.info("epoch %d: %s improved to %.4f, weights saved", epoch + 1, self.monitor, value)


def export_weights(model: Seq2Seq, path: Path) -> None:
    """Save ``model``'s weights alone: copied into an uncompiled twin (on this process'
    own device: the chief exports alone), then saved."""
    with this_process_only():
        twin = Seq2Seq(model.model_config, name=model.name)
        twin.build()
        twin.set_weights(model.get_weights())
        twin.save_weights(path)


class TimeLimit(keras.callbacks.Callback):
    """Stop training once ``minutes`` have passed since the start of ``fit``."""

    def __init__(self, minutes: float):
        super().__init__()
        self.seconds = minutes * 60

    def on_train_begin(self, logs=None):
        self.start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if time.time() - self.start > self.seconds and not self.model.stop_training:
            log.info("time limit of %.1f min reached: stopping", self.seconds / 60)
            self.model.stop_training = True


class Checkpoints(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` for every process of a run: each restores the checkpoint at
    the start of ``fit`` (a checkpoint from any device count), and the chief alone writes
    it, on its own (see :func:`training.distribution.this_process_only`).

    Args:
        chief: whether this process writes the checkpoint.
        backup_dir, save_freq: as for ``BackupAndRestore``; it is kept after training.
    """

    def __init__(self, backup_dir: str, save_freq: int | str, chief: bool):
        super().__init__(backup_dir, save_freq=save_freq, delete_checkpoint=False)
        self.chief = chief

    def on_epoch_end(self, epoch, logs=None):
        if self.chief:
            with this_process_only():
                super().on_epoch_end(epoch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if self.chief:
            with this_process_only():
                super().on_train_batch_end(batch, logs)


class Curves(keras.callbacks.Callback):
    """Redraw ``curves.png`` (loss, val loss, dev BLEU per epoch) from the CSV log."""

    def __init__(self, csv_path: Path, png_path: Path):
        super().__init__()
        self.csv_path, self.png_path = csv_path, png_path

    def on_epoch_end(self, epoch, logs=None):
        plot_curves(self.csv_path, self.png_path)


def plot_curves(csv_path: Path, png_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not csv_path.exists():
        return
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    epochs = [int(r["epoch"]) + 1 for r in rows]
    has_bleu = bool(rows[0].get("dev_bleu"))
    fig, axes = plt.subplots(1, 2 if has_bleu else 1, figsize=(10 if has_bleu else 5.5, 3.6))
    ax1 = axes[0] if has_bleu else axes
    for key, label in (("loss", "train loss"), ("val_loss", "dev loss")):
        if rows[0].get(key):
            ax1.plot(epochs, [float(r[key]) for r in rows], marker="o", label=label)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy (label-smoothed)")
    ax1.legend()
    if has_bleu:
        axes[1].plot(epochs, [float(r["dev_bleu"]) for r in rows], marker="o", color="C2")
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("dev BLEU (greedy, subset)")
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)


def best_logged(csv_path: Path, key: str = "dev_bleu", mode: str = "max") -> float | None:
    """Best value of ``key`` in a training log (for resuming a best-only checkpoint)."""
    if not csv_path.exists():
        return None
    with open(csv_path) as f:
        values = [float(r[key]) for r in csv.DictReader(f) if r.get(key)]
    if not values:
        return None
    return max(values) if mode == "max" else min(values)


def load_init(config: TrainConfig) -> bundle_lib.Bundle:
    """The model folder ``config.init_from``, checked against the run's direction."""
    init = bundle_lib.load(config.init_from)
    mc = init.model.model_config
    if (mc.src_lang, mc.tgt_lang) != config.languages:
        raise SystemExit(
            f"init_from {config.init_from} translates {mc.src_lang}-{mc.tgt_lang}, "
            f"not {config.direction}"
        )
    return init


def train(config: TrainConfig, resume: bool = False) -> keras.callbacks.History:
    """Train as ``config`` says; on several processes (``multi_worker``) each runs this,
    and only the chief writes files: ``out``, ``run_dir`` and the checkpoints in it must
    be one folder that every process sees (a shared file system) for ``--resume``."""
    dist = make_distribution(config.strategy)  # first: multi_worker joins its cluster here
    if config.max_minutes and dist.name == "multi_worker":
        raise SystemExit("max_minutes: not with multi_worker (workers would stop apart)")
    keras.utils.set_random_seed(config.seed)
    try:
        bundle_lib.check_precision(config.precision)
    except ValueError as e:
        raise SystemExit(f"config: {e}") from None
    out, run_dir = resolve_out(config.out), resolve_run_dir(config.run_dir)
    log.info("run folder %s, model folder %s", run_dir, out)
    backup = run_dir / "backup"
    if not resume and backup.exists():
        raise SystemExit(f"{backup} holds a checkpoint: pass --resume, or delete it to start over")
    if resume and not backup.exists():
        raise SystemExit(f"--resume: no checkpoint in {backup}")
    if dist.chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        out.mkdir(parents=True, exist_ok=True)

    train_pairs, dev_pairs = read_training_pairs(config), read_pairs(config.dev, config)
    epoch_pairs = upsampled(train_pairs, config.upsample)  # the tokenizer sees each pair once
    tokenizer_path = run_dir / bundle_lib.TOKENIZER_FILE
    init = load_init(config) if config.init_from else None  # its shape, on resume too
    if resume and tokenizer_path.exists():
        tokenizer = Tokenizer(tokenizer_path.read_bytes())
    elif init is not None:
        tokenizer = init.tokenizer
        log.info("tokenizer: %d pieces, from %s", tokenizer.vocab_size, config.init_from)
    else:
        start = time.time()
        texts = [p.src for p in train_pairs] + [p.tgt for p in train_pairs]
        # SentencePiece would sample a larger corpus at random; a seeded sample gives every
        # process of a multi_worker run the same tokenizer.
        if len(texts) > TOKENIZER_SENTENCES:
            texts = random.Random(config.seed).sample(texts, TOKENIZER_SENTENCES)
        tokenizer = Tokenizer.train(
            texts, config.vocab_size, max_sentences=TOKENIZER_SENTENCES,
            character_coverage=config.character_coverage,
        )  # fmt: skip
        log.info("tokenizer: %d pieces (%.0fs)", tokenizer.vocab_size, time.time() - start)
    if dist.chief:
        tokenizer.save(run_dir)

    def examples(pairs, name):
        src = tokenizer.encode_batch([p.src for p in pairs])
        tgt = tokenizer.encode_batch([p.tgt for p in pairs])
        kept, dropped = make_examples(src, tgt, config.max_len)
        log.info("%s: %d pairs, %d dropped (longer than %d tokens)", name, len(kept), dropped,
                 config.max_len)  # fmt: skip
        return kept

    train_examples = examples(epoch_pairs, "train")
    devices = {"devices": dist.devices, "shard": dist.shard}
    train_data = BucketedBatches(
        train_examples, config.batch_tokens, config.bucket_step, seed=config.seed, **devices
    )
    dev_data = BucketedBatches(
        examples(dev_pairs, "dev"), config.batch_tokens, config.bucket_step, shuffle=False,
        **devices,
    )  # fmt: skip
    src_lang, tgt_lang = config.languages
    if init is not None:
        model_config = dataclasses.replace(init.model.model_config, **config.model)
    else:
        model_config = ModelConfig(
            vocab_size=tokenizer.vocab_size, src_lang=src_lang, tgt_lang=tgt_lang, **config.model
        )
    with dist.scope():
        model = Seq2Seq(model_config, name="seq2seq", dtype=config.precision)
        model.build()
        if init is not None and not resume:
            model.set_weights(init.model.get_weights())
            log.info("weights: from %s", config.init_from)
        elif not resume:
            bias = model.output_projection.bias
            bias.assign(unigram_log_probs(train_examples, tokenizer.vocab_size))
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0,
            decay_steps=max(1, config.epochs * len(train_data)),
            warmup_target=config.learning_rate,
            warmup_steps=config.warmup_steps,
            alpha=0.05,
        )
        model.compile(
            optimizer=dist.adam(schedule, clipnorm=config.clipnorm),
            loss=dist.loss(MaskedCrossEntropy(config.label_smoothing)),
            jit_compile={"true": True, "false": False}.get(config.jit_compile.lower(), "auto"),
        )
    log.info("model: %s parameters, config %s", f"{model.count_params():,}", model_config)

    metadata = {
        "direction": config.direction,
        "parameters": int(model.count_params()),
        "training": {**dataclasses.asdict(config), "train_pairs": len(train_examples)},
        "data_sources": data_sources(config),
    }
    csv_path = out / LOG_FILE
    if dist.chief:
        bundle_lib.save_config(out, model, metadata)
        tokenizer.save(out)
        if not resume and csv_path.exists():
            csv_path.unlink()
    dev_subset = dev_pairs[: config.dev_bleu_sentences]
    monitor, mode = ("dev_bleu", "max") if dev_subset else ("val_loss", "min")
    callbacks = [
        Throughput(train_data.target_tokens, len(train_data), every=config.log_every),
        *(
            [DevBleu(tokenizer, [p.src for p in dev_subset], [p.tgt for p in dev_subset])]
            if dev_subset
            else []
        ),
        *([TimeLimit(config.max_minutes)] if config.max_minutes else []),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=config.patience),
        Checkpoints(str(backup), config.checkpoint_every or "epoch", dist.chief),
    ]
    if dist.chief:
        callbacks += [
            SaveBestWeights(
                out / bundle_lib.WEIGHTS_FILE,
                monitor,
                mode,
                best=best_logged(csv_path, monitor, mode) if resume else None,
            ),
            keras.callbacks.CSVLogger(str(csv_path), append=True),
            Curves(csv_path, out / CURVES_FILE),
        ]
    start = time.time()
    with dist.fit_scope():
        history = model.fit(
            train_data.as_dataset(),
            validation_data=dev_data.as_dataset(),
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=config.verbose,
            shuffle=False,  # the batches reshuffle themselves each epoch
        )
    best = best_logged(csv_path, monitor, mode)
    minutes = (time.time() - start) / 60
    log.info("training finished in %.1f min; best %s %s; model in %s", minutes, monitor, best, out)
    if dist.chief:
        shutil.copy(tokenizer_path, out / bundle_lib.TOKENIZER_FILE)
        build_shortlist(out, [config.train, *config.train_extra])
    return history


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    config, args = parse_args(argv)
    train(config, resume=args.resume)


if __name__ == "__main__":
    main()
