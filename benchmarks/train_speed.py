"""Training throughput of one config's model on this machine: target tokens per second.

Times ``train_on_batch`` on synthetic batches shaped like ``training.train``'s (rows ×
length token ids, the batch's token budget split over rows), after warm-up steps that
pay for compilation. It answers "which backend and compile setting trains fastest here"
before an hours-long run; the backend comes from ``KERAS_BACKEND`` as usual::

    KERAS_BACKEND=tensorflow python -m benchmarks.train_speed --config CONFIG --jit false
    KERAS_BACKEND=jax python -m benchmarks.train_speed --config CONFIG
    python -m benchmarks.train_speed --config CONFIG --precision float32,mixed_bfloat16 --rounds 3

``--precision`` takes one or more dtype policies (comma-separated); with ``--rounds N``
each width is timed N times per policy, the policies alternating, so that a machine whose
load changes treats them alike.

On this 2-core VM (en-de-big config, width 24, 250 rows): TensorFlow without XLA 1,712
target tokens/s, JAX 1,909; TensorFlow with XLA cannot compile the GRU loop's gradient.
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np

from seq2seq.bundle import check_precision
from seq2seq.config import ModelConfig
from seq2seq.model import MaskedCrossEntropy, Seq2Seq
from training.train import TrainConfig


def batch(rng, rows: int, length: int, vocab: int):
    """``((src, tgt_in), tgt_out)``, each int32 ``(rows, length)``; a fifth of each row is PAD."""
    ids = rng.integers(4, vocab, size=(3, rows, length)).astype("int32")
    ids[:, :, length - length // 5 :] = 0
    return (ids[0], ids[1]), ids[2]


def measure(
    config: TrainConfig, length: int, steps: int, warmup: int, jit, precision: str = "float32"
) -> float:
    """Target tokens (non-PAD) per second over ``steps`` timed steps."""
    src_lang, tgt_lang = config.languages
    model = Seq2Seq(
        ModelConfig(
            vocab_size=config.vocab_size, src_lang=src_lang, tgt_lang=tgt_lang, **config.model
        ),
        name="seq2seq",
        dtype=precision,
    )
    model.build()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4, clipnorm=config.clipnorm),
        loss=MaskedCrossEntropy(config.label_smoothing),
        jit_compile=jit,
    )
    rng = np.random.default_rng(0)
    rows = max(1, config.batch_tokens // length)
    x, y = batch(rng, rows, length, config.vocab_size)
    for _ in range(warmup):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    seconds = time.perf_counter() - start
    return steps * int((y != 0).sum()) / seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="a training config (JSON)")
    parser.add_argument("--lengths", default="16,32", help="batch widths to time (tokens)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--jit", choices=["auto", "true", "false"], default="auto")
    parser.add_argument(
        "--precision",
        default="float32",
        help="dtype policies, comma-separated (float32, mixed_bfloat16)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="times each, alternating")
    args = parser.parse_args(argv)
    config = TrainConfig.from_file(args.config)
    jit = {"true": True, "false": False}.get(args.jit, "auto")
    precisions = args.precision.split(",")
    for precision in precisions:
        check_precision(precision)
    for length in (int(n) for n in args.lengths.split(",")):
        for round_ in range(1, args.rounds + 1):
            for precision in precisions:
                rate = measure(config, length, args.steps, args.warmup, jit, precision)
                print(
                    f"{keras.backend.backend()} jit={args.jit} {precision} width {length} "
                    f"round {round_}: {rate:,.0f} target tokens/s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
