"""The callbacks of a training run: dev BLEU, throughput, the best weights, the time limit,
checkpoints for ``--resume`` and the curves, and the training log they read back.

Each is a small ``keras.callbacks.Callback`` that :func:`training.train.make_callbacks`
puts together for one run; the chief alone gets those that write the model folder.

Not for: choosing which callbacks a run uses (see :mod:`training.train`) or final
evaluation (see :mod:`training.evaluate`).
"""

from __future__ import annotations

import csv
import logging
import os
import signal
import threading
import time
from pathlib import Path

import keras
import sacrebleu

from seq2seq import bundle as bundle_lib
from seq2seq.model import Seq2Seq
from seq2seq.translator import Translator
from training.distribution import this_process_only
from training.evaluate import bleu_tokenize

log = logging.getLogger("training.callbacks")


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
            epoch + 1,
            bleu.score,
            len(self.sources),
            time.time() - start,
            self.sources[0],
            hypotheses[0],
        )


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
            log.info(
                "step %d/%d: loss %.3f, ~%.0f target tokens/s",
                batch + 1,
                self.batches,
                (logs or {}).get("loss", float("nan")),
                rate,
            )

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

    A run stopped inside an epoch goes on from the step it stopped at, not from the
    epoch's start (Keras restores the epoch only): the batches continue from there (see
    :meth:`~training.batching.BucketedBatches.resume_at`), in the epoch that step is in,
    and training stops after ``steps`` in all, the run's plan. The checkpoints a resumed
    run writes carry that epoch (Keras would count from 0 again until an epoch ends).
    SIGTERM (``kill PID``) stops the run cleanly: after the step under way, a checkpoint
    of that step, then exit status 0, nothing else (no evaluation of the cut epoch).

    Args:
        chief: whether this process writes the checkpoint.
        backup_dir, save_freq: as for ``BackupAndRestore``; it is kept after training.
        batches: the training batches (for a resumed run, moved on to its step).
        steps: optimizer steps of the whole run.
    """

    def __init__(self, backup_dir: str, save_freq: int | str, chief: bool, batches, steps: int):
        super().__init__(backup_dir, save_freq=save_freq, delete_checkpoint=False)
        self.chief, self.batches, self.steps = chief, batches, steps
        self.step, self.stopping, self.default_handler = 0, False, None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if threading.current_thread() is threading.main_thread():
            self.default_handler = signal.signal(signal.SIGTERM, self.stop)
        self.step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        # The epoch is the step's (Keras took the checkpoint's, which a checkpoint at an
        # epoch's last batch gives as that epoch), and it is the one the checkpoints carry.
        self._current_epoch = self.step // len(self.batches)
        self.model._initial_epoch = self._current_epoch
        if self.step:
            self.batches.resume_at(self.step)
            log.info(
                "resumed at step %d of %d: epoch %d, batch %d of %d",
                self.step,
                self.steps,
                self._current_epoch + 1,
                self.batches.skip + 1,
                len(self.batches),
            )
        log.info("checkpoints in %s; SIGTERM saves one and stops", self.backup_dir)

    def stop(self, signum, frame):
        self.stopping = True

    def on_train_end(self, logs=None):
        if self.default_handler is not None:
            signal.signal(signal.SIGTERM, self.default_handler)

    def on_epoch_end(self, epoch, logs=None):
        if self.chief:
            with this_process_only():
                super().on_epoch_end(epoch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.chief:
            with this_process_only():
                super().on_train_batch_end(batch, logs)
                if self.stopping:
                    self._save_model()
        if self.stopping:
            log.info("SIGTERM: stopped at step %d of %d, checkpoint saved", self.step, self.steps)
            logging.shutdown()  # flushed; then out at once: an ordinary exit can hang
            os._exit(0)  # finalising TensorFlow's generator dataset (seen on en-de-big)
        if self.step >= self.steps and not self.model.stop_training:
            log.info("step %d of %d: the run's last", self.step, self.steps)
            self.model.stop_training = True


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
