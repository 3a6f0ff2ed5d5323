"""Train a model folder from a config: ``python -m training.train --config FILE.json``.

Every field of :class:`training.train_config.TrainConfig` (and of its ``model`` part, see
:class:`seq2seq.config.ModelConfig`) can be overridden on the command line:
``--epochs 3 --model.dec_units 256``.

What a run does, one named step each (:func:`train` calls them in turn): joins its devices
and checks its folders (:func:`start_run`, see :mod:`training.distribution`), reads the
corpus (columns chosen by the direction; :func:`read_data`), trains the joint SentencePiece
tokenizer on the training split (:func:`build_tokenizer`), encodes and length-buckets the
pairs (:func:`encode`, :func:`make_batches`), builds the model (:func:`build_model`) and
compiles it with Adam, warm-up + cosine decay and gradient clipping
(:func:`compile_model`), writes the model folder's config and tokenizer
(:func:`write_model_folder`), and trains (:func:`fit`) with the callbacks of
:mod:`training.callbacks` (:func:`make_callbacks`): after each epoch dev loss and greedy
dev BLEU (sacreBLEU) on a dev subset. The best-BLEU weights go to ``out`` together with
``training_log.csv``, ``curves.png`` and, at the end, the lexical shortlist
(:mod:`training.shortlist`); ``--resume`` continues a stopped run from the last checkpoint
kept in ``run_dir``.

Runs live outside the work tree (which may be laid anew while a run goes on for days): a
relative ``run_dir``, and an ``out`` that starts with ``runs/``, are resolved under
``$SEQ2SEQ_RUNS`` (default ``~/.cache/seq2seq/runs``): ``runs/en-zh-ft/run`` is
``~/.cache/seq2seq/runs/en-zh-ft/run``. Absolute paths are used as they are; see
:mod:`training.runs`.

Not for: final evaluation (see :mod:`training.evaluate`).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np

from seq2seq import bundle as bundle_lib
from seq2seq.config import ModelConfig
from seq2seq.model import MaskedCrossEntropy, Seq2Seq
from seq2seq.tokenizer import Tokenizer
from training import grow as grow_lib
from training.batching import BucketedBatches, make_examples
from training.callbacks import (
    Checkpoints,
    Curves,
    DevBleu,
    SaveBestWeights,
    Throughput,
    TimeLimit,
    best_logged,
)
from training.corpus import provenance
from training.distribution import Distribution, make_distribution
from training.readers import read_corpus
from training.runs import resolve_out, resolve_run_dir
from training.shortlist import build_for as build_shortlist
from training.train_config import TrainConfig

log = logging.getLogger("training.train")
LOG_FILE, CURVES_FILE = bundle_lib.LOG_FILE, bundle_lib.CURVES_FILE
TOKENIZER_SENTENCES = 2_000_000  # texts the tokenizer is trained on, at most
CONFIG_FILE_ONLY = ("model", "upsample", "train_extra")  # no command-line flag


def parse_args(argv=None) -> tuple[TrainConfig, argparse.Namespace]:
    """The config file's :class:`TrainConfig` with the command line's fields over it."""
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
    flags = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if f.name not in CONFIG_FILE_ONLY and getattr(args, f.name) is not None
    }
    config = dataclasses.replace(config, **flags)  # checked again (__post_init__)
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
    """``pairs`` with each pair of a source named in ``weights`` repeated that many times
    (0: the source is left out, for an ablation)."""
    for name, n in weights.items():
        if type(n) is not int or n < 0:
            raise SystemExit(f"upsample: {name!r} must be a whole number of at least 0, got {n!r}")
    missing = set(weights) - {p.origin for p in pairs}
    if missing:
        raise SystemExit(f"upsample: no training pair comes from {sorted(missing)}")
    out = [p for p in pairs for _ in range(weights.get(p.origin, 1))]
    if weights:
        log.info(
            "upsample %s: %d training pairs an epoch (%d distinct)", weights, len(out), len(pairs)
        )
    return out


def unigram_log_probs(examples, vocab_size: int) -> np.ndarray:
    """Log frequency of each target token (add-one): the output bias to start from, so the
    first updates need not learn word frequencies through the rest of the network."""
    counts = np.ones(vocab_size)
    for _, _, tgt_out in examples:
        np.add.at(counts, tgt_out, 1)
    return np.log(counts / counts.sum()).astype("float32")


def load_init(config: TrainConfig) -> bundle_lib.Bundle:
    """The model folder ``config.init_from``, checked against the run's direction and
    shape (:func:`training.grow.check_growth`)."""
    init = bundle_lib.load(resolve_out(config.init_from))
    mc = init.model.model_config
    if (mc.src_lang, mc.tgt_lang) != config.languages:
        raise SystemExit(
            f"init_from {config.init_from} translates {mc.src_lang}-{mc.tgt_lang}, "
            f"not {config.direction}"
        )
    grown = dataclasses.replace(mc, **config.model)
    grow_lib.check_growth(mc, grown, config.init_from)  # exits before any training
    return init


@dataclass(frozen=True)
class Run:
    """Where one run writes, and how this process takes part (see :func:`start_run`).

    Attributes:
        dist: the run's devices; only ``dist.chief`` writes files.
        out: the model folder (best weights, config, tokenizer, log, curves).
        run_dir: the run's own folder: its tokenizer and, in ``backup``, the checkpoint
            that ``--resume`` continues from.
        resume: whether this run continues from that checkpoint.
    """

    dist: Distribution
    out: Path
    run_dir: Path
    resume: bool

    @property
    def backup(self) -> Path:
        return self.run_dir / "backup"

    @property
    def log_csv(self) -> Path:
        return self.out / LOG_FILE


@dataclass(frozen=True)
class RunData:
    """The pairs of a run: ``train`` (each pair once: the tokenizer's text), ``epoch``
    (``train`` upsampled: one epoch's pairs), ``dev`` and ``dev_bleu`` (the first
    ``dev_bleu_sentences`` of ``dev``, translated for BLEU after each epoch)."""

    train: list
    epoch: list
    dev: list
    dev_bleu: list


class Selection(NamedTuple):
    """What picks the best epoch and stops early: ``dev_bleu`` (higher is better) when
    dev BLEU is computed, else ``val_loss`` (lower is better)."""

    monitor: str
    mode: str

    @classmethod
    def of(cls, data: RunData) -> Selection:
        return cls("dev_bleu", "max") if data.dev_bleu else cls("val_loss", "min")


def start_run(config: TrainConfig, resume: bool) -> Run:
    """Join the run's devices, seed, refuse what the run cannot do before any work, and
    resolve (and, on the chief, create) its folders."""
    dist = make_distribution(config.strategy)  # first: multi_worker joins its cluster here
    if config.max_minutes and dist.name == "multi_worker":
        raise SystemExit("max_minutes: not with multi_worker (workers would stop apart)")
    keras.utils.set_random_seed(config.seed)
    try:
        bundle_lib.check_precision(config.precision)
    except ValueError as e:
        raise SystemExit(f"config: {e}") from None
    run = Run(dist, resolve_out(config.out), resolve_run_dir(config.run_dir), resume)
    log.info("run folder %s, model folder %s", run.run_dir, run.out)
    if not resume and run.backup.exists():
        raise SystemExit(
            f"{run.backup} holds a checkpoint: pass --resume, or delete it to start over"
        )
    if resume and not run.backup.exists():
        raise SystemExit(f"--resume: no checkpoint in {run.backup}")
    if dist.chief:
        run.run_dir.mkdir(parents=True, exist_ok=True)
        run.out.mkdir(parents=True, exist_ok=True)
    return run


def read_data(config: TrainConfig) -> RunData:
    """The training pairs (``train`` and ``train_extra``), upsampled, and the dev pairs."""
    train_pairs, dev_pairs = read_training_pairs(config), read_pairs(config.dev, config)
    epoch_pairs = upsampled(train_pairs, config.upsample)
    return RunData(train_pairs, epoch_pairs, dev_pairs, dev_pairs[: config.dev_bleu_sentences])


def build_tokenizer(
    config: TrainConfig, run: Run, pairs: list, init: bundle_lib.Bundle | None
) -> Tokenizer:
    """The run's tokenizer, written into ``run_dir`` (by the chief): on ``--resume`` the one
    found there, when fine-tuning ``init``'s, else one trained on ``pairs``."""
    path = run.run_dir / bundle_lib.TOKENIZER_FILE
    if run.resume and path.exists():
        tokenizer = Tokenizer(path.read_bytes())
    elif init is not None:
        tokenizer = init.tokenizer
        log.info("tokenizer: %d pieces, from %s", tokenizer.vocab_size, config.init_from)
    else:
        tokenizer = train_tokenizer(config, pairs)
    if run.dist.chief:
        tokenizer.save(run.run_dir)
    return tokenizer


def train_tokenizer(config: TrainConfig, pairs: list) -> Tokenizer:
    """A joint SentencePiece tokenizer of both sides of ``pairs``."""
    start = time.time()
    texts = [p.src for p in pairs] + [p.tgt for p in pairs]
    # SentencePiece would sample a larger corpus at random; a seeded sample gives every
    # process of a multi_worker run the same tokenizer.
    if len(texts) > TOKENIZER_SENTENCES:
        texts = random.Random(config.seed).sample(texts, TOKENIZER_SENTENCES)
    tokenizer = Tokenizer.train(
        texts,
        config.vocab_size,
        max_sentences=TOKENIZER_SENTENCES,
        character_coverage=config.character_coverage,
    )
    log.info("tokenizer: %d pieces (%.0fs)", tokenizer.vocab_size, time.time() - start)
    return tokenizer


def encode(tokenizer: Tokenizer, pairs: list, max_len: int, name: str) -> list:
    """The examples of ``pairs`` (see :func:`training.batching.make_examples`)."""
    src = tokenizer.encode_batch([p.src for p in pairs])
    tgt = tokenizer.encode_batch([p.tgt for p in pairs])
    kept, dropped = make_examples(src, tgt, max_len)
    log.info("%s: %d pairs, %d dropped (longer than %d tokens)", name, len(kept), dropped, max_len)
    return kept


def make_batches(
    examples: list, config: TrainConfig, dist: Distribution, shuffle: bool
) -> BucketedBatches:
    """Length-bucketed batches of ``examples`` for the run's devices."""
    return BucketedBatches(
        examples,
        config.batch_tokens,
        config.bucket_step,
        seed=config.seed,
        shuffle=shuffle,
        devices=dist.devices,
        shard=dist.shard,
    )


def build_model(
    config: TrainConfig,
    tokenizer: Tokenizer,
    init: bundle_lib.Bundle | None,
    train_examples: list,
    resume: bool,
) -> Seq2Seq:
    """The model, built, with its first weights: ``init``'s when fine-tuning (grown by
    :func:`training.grow.grow` when the run adds encoder layers), else fresh ones
    whose output bias is the targets' unigram log frequency; on ``--resume`` those are left
    to the checkpoint, which ``fit`` restores. Call it in the distribution's ``scope()``."""
    if init is not None:
        # load_init has checked this shape against the folder's (training.grow)
        model_config = dataclasses.replace(init.model.model_config, **config.model)
    else:
        src_lang, tgt_lang = config.languages
        model_config = ModelConfig(
            vocab_size=tokenizer.vocab_size, src_lang=src_lang, tgt_lang=tgt_lang, **config.model
        )
    model = Seq2Seq(model_config, name="seq2seq", dtype=config.precision)
    model.build()
    if init is not None and not resume:
        added = grow_lib.grow(model, init.model)
        log.info("weights: from %s (%d encoder layer(s) added)", config.init_from, added)
    elif not resume:
        bias = model.output_projection.bias
        bias.assign(unigram_log_probs(train_examples, tokenizer.vocab_size))
    return model


def compile_model(
    model: Seq2Seq, config: TrainConfig, dist: Distribution, steps_per_epoch: int
) -> None:
    """Adam (warm-up, then cosine decay over all epochs; clipped) on the label-smoothed
    cross-entropy. Call it in the distribution's ``scope()``."""
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(1, config.epochs * steps_per_epoch),
        warmup_target=config.learning_rate,
        warmup_steps=config.warmup_steps,
        alpha=0.05,
    )
    model.compile(
        optimizer=dist.adam(schedule, clipnorm=config.clipnorm),
        loss=dist.loss(MaskedCrossEntropy(config.label_smoothing)),
        jit_compile=config.jit_compile,
    )


def write_model_folder(
    run: Run, config: TrainConfig, model: Seq2Seq, tokenizer: Tokenizer, train_pairs: int
) -> None:
    """Before training, the model folder's config, metadata and tokenizer (the weights come
    with each better epoch); a new run starts its log anew. The chief's work."""
    metadata = {
        "direction": config.direction,
        "parameters": int(model.count_params()),
        "training": {**dataclasses.asdict(config), "train_pairs": train_pairs},
        "data_sources": data_sources(config),
    }
    bundle_lib.save_config(run.out, model, metadata)
    tokenizer.save(run.out)
    if not run.resume and run.log_csv.exists():
        run.log_csv.unlink()


def make_callbacks(
    config: TrainConfig,
    run: Run,
    selection: Selection,
    tokenizer: Tokenizer,
    dev_bleu: list,
    train_batches: BucketedBatches,
) -> list[keras.callbacks.Callback]:
    """Every process: throughput, dev BLEU (of the pairs ``dev_bleu``, if any), the time
    limit, early stopping, checkpoints; the chief also saves the best weights, the log and
    the curves into the model folder."""
    monitor, mode = selection
    callbacks = [
        Throughput(train_batches.target_tokens, len(train_batches), every=config.log_every),
        *(
            [DevBleu(tokenizer, [p.src for p in dev_bleu], [p.tgt for p in dev_bleu])]
            if dev_bleu
            else []
        ),
        *([TimeLimit(config.max_minutes)] if config.max_minutes else []),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=config.patience),
        Checkpoints(
            str(run.backup),
            config.checkpoint_every or "epoch",
            run.dist.chief,
            train_batches,
            config.epochs * len(train_batches),
        ),
    ]
    if run.dist.chief:
        best = best_logged(run.log_csv, monitor, mode) if run.resume else None
        callbacks += [
            SaveBestWeights(run.out / bundle_lib.WEIGHTS_FILE, monitor, mode, best=best),
            keras.callbacks.CSVLogger(str(run.log_csv), append=True),
            Curves(run.log_csv, run.out / CURVES_FILE),
        ]
    return callbacks


def fit(
    model: Seq2Seq,
    config: TrainConfig,
    run: Run,
    batches: tuple[BucketedBatches, BucketedBatches],
    callbacks: list,
) -> keras.callbacks.History:
    """``model.fit`` on the ``(train, dev)`` batches, in the distribution's fit scope."""
    train_batches, dev_batches = batches
    with run.dist.fit_scope():
        return model.fit(
            train_batches.as_dataset(),
            validation_data=dev_batches.as_dataset(),
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=config.verbose,
            shuffle=False,  # the batches reshuffle themselves each epoch
        )


def train(config: TrainConfig, resume: bool = False) -> keras.callbacks.History:
    """Train as ``config`` says; on several processes (``multi_worker``) each runs this,
    and only the chief writes files: ``out``, ``run_dir`` and the checkpoints in it must
    be one folder that every process sees (a shared file system) for ``--resume``."""
    run = start_run(config, resume)
    init = load_init(config) if config.init_from else None  # its shape, on resume too
    data = read_data(config)
    tokenizer = build_tokenizer(config, run, data.train, init)
    train_examples = encode(tokenizer, data.epoch, config.max_len, "train")
    batches = (
        make_batches(train_examples, config, run.dist, shuffle=True),
        make_batches(
            encode(tokenizer, data.dev, config.max_len, "dev"), config, run.dist, shuffle=False
        ),
    )
    with run.dist.scope():  # the model's and the optimizer's variables on the run's devices
        model = build_model(config, tokenizer, init, train_examples, resume)
        compile_model(model, config, run.dist, steps_per_epoch=len(batches[0]))
    log.info("model: %s parameters, config %s", f"{model.count_params():,}", model.model_config)
    if run.dist.chief:
        write_model_folder(run, config, model, tokenizer, len(train_examples))
    selection = Selection.of(data)
    callbacks = make_callbacks(config, run, selection, tokenizer, data.dev_bleu, batches[0])
    start = time.time()
    history = fit(model, config, run, batches, callbacks)
    best = best_logged(run.log_csv, *selection)
    log.info(
        "training finished in %.1f min; best %s %s; model in %s",
        (time.time() - start) / 60,
        selection.monitor,
        best,
        run.out,
    )
    if run.dist.chief:
        build_shortlist(run.out, [config.train, *config.train_extra])
    return history


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    config, args = parse_args(argv)
    train(config, resume=args.resume)


if __name__ == "__main__":
    main()
