"""Where a beam-search step's time goes: ``python -m benchmarks.step_profile
[--model models/en-de] [--repeat 200]``.

Times, each as its own compiled function (XLA on TensorFlow, ``jax.jit`` on JAX) with the
model's weights, the parts of one decoder step at two shapes of ``rows`` decoder rows:
one sentence at beam 5 (5 rows, source width 16, the whole vocabulary: the app's case) and
a batch of 64 at beam 5 (320 rows, width 32, the 4,096-piece shortlist: the CLI's case):

- the encoder (once per batch, shown for scale), the GRU cell, the attention, the
  attentional layer (``combine``), the output projection, ``log_softmax``;
- the search's own work: ``top_k`` over the ``K × vocabulary`` candidates and the
  gathers and writes of the hypotheses' histories (tokens, log-probs, attention rows) that
  each step does (``seq2seq.search._extend`` plus the kept-slot gather);
- the whole ``model.step`` (the parts above fused by the compiler), and the sum of parts.

Each figure is the median of ``--repeat`` calls (after one compiling call), in
microseconds, and its share of the sum. Also prints the multiply-accumulates per row of
each matrix product, and what the step's median time means in multiply-accumulates per
second, against the machine's peak (cores × 2 FMA × 8 float lanes × GHz, where
``/proc/cpuinfo`` gives the clock).

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.common import machine  # noqa: E402

SHAPES = (("one sentence, beam 5", 1, 5, 16, None), ("batch 64, beam 5", 64, 5, 32, 4096))


def compiled(fn):
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    return fn


def median_us(fn, args, repeat: int) -> float:
    import keras

    block = lambda out: keras.tree.map_structure(keras.ops.convert_to_numpy, out)  # noqa: E731
    block(fn(*args))  # compile
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        block(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def clock_ghz() -> float | None:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    mhz = [float(x.split(":")[1]) for x in lines if x.startswith("cpu MHz")]
    return max(mhz) / 1000 if mhz else None


def profile(translator, label, batch, k, width, short, repeat):
    from keras import ops

    from seq2seq.search import SearchResult, _extend, _pick, gather_beams, tile_beams

    model, c = translator.model, translator.model.model_config
    rows = batch * k
    rng = np.random.default_rng(0)
    src = rng.integers(4, c.vocab_size, (batch, width)).astype("int32")
    memory, mask, state = model.encode(src)
    memory, mask, state = tile_beams(memory, k), tile_beams(mask, k), tile_beams(state, k)
    vocab = (
        ops.convert_to_tensor(
            np.sort(rng.choice(c.vocab_size, short, replace=False)).astype("int32")
        )
        if short
        else None
    )
    n_out = short or c.vocab_size
    prev = ops.convert_to_tensor(rng.integers(0, n_out, (rows,)).astype("int32"))
    emb = model.tgt_embedding(prev if vocab is None else ops.take(vocab, prev, axis=0))
    *rnn_state, attn_vec = state
    x = ops.concatenate([emb, attn_vec], axis=-1)
    h = rnn_state[0]
    keys, values = memory
    context = values[:, 0]
    max_len = translator.search.max_len(width)  # the output cap the search uses
    step_lp = ops.log_softmax(model._logits(attn_vec, vocab), axis=-1)
    alive = SearchResult(
        tokens=ops.zeros((batch, k, max_len), "int32"),
        token_log_probs=ops.zeros((batch, k, max_len)),
        attention=ops.zeros((batch, k, max_len, width)),
        log_prob=ops.zeros((batch, k)),
        length=ops.zeros((batch, k), "int32"),
        finished=ops.zeros((batch, k), "bool"),
    )

    def bookkeeping(alive, step_lp, weights):
        cand, parent, token = _extend(alive, step_lp, weights, 3)
        _, keep = ops.top_k(ops.where(cand.finished, -1e9, cand.log_prob), k)
        kept = SearchResult(*(gather_beams(t, keep) for t in cand))
        return kept, _pick(token, keep)

    parts = [
        ("GRU cell", lambda x, s: model.decoder_cell(x, [s])[0], (x, h)),
        ("attention", lambda h, m, v, mk: model.attention(h, m, v, mk), (h, keys, values, mask)),
        (
            "combine (attentional vector)",
            lambda h, cx: model.combine(ops.concatenate([h, cx], -1)),
            (h, context),
        ),
        (f"output projection ({n_out} pieces)", lambda a: model._logits(a, vocab), (attn_vec,)),
        ("log_softmax", lambda a: ops.log_softmax(a, axis=-1), (model._logits(attn_vec, vocab),)),
        (
            f"top_k over K × {n_out}",
            lambda lp: ops.top_k(ops.reshape(lp, (batch, -1)), 2 * k),
            (step_lp,),
        ),
        (
            "history gathers and writes",
            lambda lp, w: bookkeeping(alive, lp, w),
            (
                ops.reshape(step_lp, (batch, k, -1)),
                ops.reshape(ops.cast(mask, "float32"), (batch, k, width)),
            ),
        ),
    ]
    print(f"### {label}: {rows} decoder rows, source width {width}, max_len {max_len}\n")
    encode_us = median_us(compiled(lambda s: model.encode(s)), (src,), max(repeat // 10, 5))
    timed = [(name, median_us(compiled(fn), args, repeat)) for name, fn, args in parts]
    whole = median_us(
        compiled(lambda p, s: model.step(p, s, memory, mask, vocab=vocab)), (prev, state), repeat
    )
    total = sum(us for _, us in timed)
    print("| part | µs | share of the sum |")
    print("|---|---|---|")
    for name, us in timed:
        print(f"| {name} | {us:,.0f} | {100 * us / total:.0f} % |")
    print(f"| **sum of parts** | **{total:,.0f}** | 100 % |")
    print(f"| whole `model.step` (compiled as one) | {whole:,.0f} | |")
    print(f"| encoder, once per batch ({batch} × {width}) | {encode_us:,.0f} | |\n")
    macs = {
        "GRU cell": 3 * c.dec_units * (c.emb_dim + c.dec_units + c.dec_units),
        "attention query": c.dec_units * c.attn_units,
        "combine": c.dec_units * (c.dec_units + 2 * c.enc_units),
        "output projection": c.dec_units * c.emb_dim + c.emb_dim * n_out,
    }
    per_row = sum(macs.values())
    rate = per_row * rows / (whole / 1e6) / 1e9
    print(
        "multiply-accumulates per decoder row: "
        + ", ".join(f"{n} {v / 1e6:.2f} M" for n, v in macs.items())
        + f"; total {per_row / 1e6:.2f} M"
    )
    ghz = clock_ghz()
    peak = f"; peak {os.cpu_count() * 2 * 8 * ghz:.0f} GMAC/s at {ghz:.2f} GHz" if ghz else ""
    print(f"whole step: {rate:.1f} GMAC/s{peak}\n")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.step_profile", description=__doc__)
    parser.add_argument("--model", default="models/en-de")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)
    import keras

    from seq2seq.translator import Translator

    translator = Translator.load(args.model)
    print(f"## {machine()}; backend {keras.backend.backend()}; {args.model}\n")
    for label, batch, k, width, short in SHAPES:
        profile(translator, label, batch, k, width, short, args.repeat)


if __name__ == "__main__":
    main()
