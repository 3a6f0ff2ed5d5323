"""Decoding speed: ``python -m benchmarks.decode_speed --model models/en-de``.

Prints (1) single-sentence latency p50/p95 for short, medium and long test sentences,
greedy and beam 5, and (2) batch throughput in target subword tokens/s (EOS included)
over test sentences at batch 64. The same is measured for a naive baseline in the same
run: an eager Python loop calling the model once per step, one sentence at a time (its
beam search keeps its beams as a batch of k rows, as any beam search must). The ratio
column is compiled / naive. Every input shape is decoded once before timing (XLA compiles
each new shape once, ~2 s). A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import statistics
import time

import numpy as np

from seq2seq.tokenizer import BOS, EOS
from seq2seq.translator import Translator, gnmt_penalty

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load_sources(path: str) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.split("\t")[0] for line in f]


def pick(sources, low, high, n):
    chosen = [s for s in sources if low <= len(s.split()) <= high]
    return chosen[:n]


def naive_decode(translator: Translator, text: str, beam_size: int, alpha: float = 0.6):
    """One sentence, eager: one ``model.step`` call per output token (beam: k rows)."""
    model = translator.model
    src = np.array([translator.source_ids([text])[0]], dtype="int32")
    memory, mask, state = model.encode(src)
    max_len = translator._max_len(src.shape[1])
    if beam_size == 1:
        prev, out = np.array([BOS], "int32"), []
        for _ in range(max_len):
            log_probs, state, _ = model.step(prev, state, memory, mask)
            token = int(np.argmax(np.asarray(log_probs)[0]))
            out.append(token)
            if token == EOS:
                break
            prev = np.array([token], "int32")
        return out
    k = beam_size
    tile = lambda t: np.repeat(np.asarray(t), k, axis=0)  # noqa: E731
    memory, mask, state = [tile(m) for m in memory], tile(mask), [tile(s) for s in state]
    beams, scores = [[]], np.array([0.0] + [-1e9] * (k - 1))
    beams = beams * k
    finished = []
    for t in range(max_len):
        prev = np.array([b[-1] if b else BOS for b in beams], "int32")
        log_probs, state, _ = model.step(prev, state, memory, mask)
        total = scores[:, None] + np.asarray(log_probs)
        flat = np.argsort(total, axis=None)[::-1][: 2 * k]
        new_beams, new_scores, rows = [], [], []
        for idx in flat:
            b, tok = divmod(int(idx), total.shape[1])
            if tok == EOS:
                finished.append((total[b, tok] / gnmt_penalty(t + 1, alpha), beams[b] + [tok]))
            elif len(new_beams) < k:
                new_beams.append(beams[b] + [tok])
                new_scores.append(total[b, tok])
                rows.append(b)
        beams, scores = new_beams, np.array(new_scores)
        state = [np.asarray(s)[rows] for s in state]
        if len(finished) >= k and max(f[0] for f in finished) > scores.max() / gnmt_penalty(
            max_len, alpha
        ):
            break
    return max(finished)[1] if finished else beams[0]


def percentiles(values):
    values = sorted(values)
    return statistics.median(values) * 1000, values[int(0.95 * (len(values) - 1))] * 1000


def time_each(fn, items, repeat=1):
    times = []
    for item in items:
        for _ in range(repeat):
            start = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - start)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decode_speed", description=__doc__)
    parser.add_argument("--model", default="models/en-de")
    parser.add_argument("--test", default="training/data/en-de/test-v1.tsv.gz")
    parser.add_argument("--sentences", type=int, default=20, help="per length class")
    parser.add_argument("--batch-sentences", type=int, default=640)
    parser.add_argument("--naive-batch-sentences", type=int, default=64)
    args = parser.parse_args(argv)

    translator = Translator.load(args.model, batch_size=64)
    sources = load_sources(args.test)
    classes = {
        "short (3-6 words)": pick(sources, 3, 6, args.sentences),
        "medium (11-13 words)": pick(sources, 11, 13, args.sentences),
        "long (25-40 words)": pick(sources, 25, 40, args.sentences),
    }
    print(f"model {args.model}; machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; backend TensorFlow (compiled = tf.function)")  # fmt: skip
    print()
    print("| sentences | search | compiled p50 / p95 ms | naive p50 / p95 ms | speed-up (p50) |")
    print("|---|---|---|---|---|")
    for name, texts in classes.items():
        for beam in (1, 5):
            label = "greedy" if beam == 1 else f"beam {beam}"
            for text in texts:  # warm-up: compile each shape once
                translator.translate([text], beam_size=beam)
            fast = time_each(lambda s, b=beam: translator.translate([s], beam_size=b), texts, 3)
            slow = time_each(lambda s, b=beam: naive_decode(translator, s, b), texts[:10])
            (fp50, fp95), (sp50, sp95) = percentiles(fast), percentiles(slow)
            print(f"| {name} | {label} | {fp50:.0f} / {fp95:.0f} | {sp50:.0f} / {sp95:.0f} "
                  f"| {sp50 / fp50:.1f}x |")  # fmt: skip

    print()
    print("| batch throughput | search | compiled tokens/s | naive tokens/s | speed-up |")
    print("|---|---|---|---|---|")
    batch_texts = sources[: args.batch_sentences]
    for beam in (1, 5):
        label = "greedy" if beam == 1 else f"beam {beam}"
        translator.translate(batch_texts, beam_size=beam, split=False)  # compile every shape
        start = time.perf_counter()
        results = translator.translate(batch_texts, beam_size=beam, split=False)
        seconds = time.perf_counter() - start
        tokens = sum(t.hypotheses[0].length for t in results)
        fast_rate = tokens / seconds
        naive_texts = batch_texts[: args.naive_batch_sentences]
        start = time.perf_counter()
        naive_tokens = sum(len(naive_decode(translator, s, beam)) for s in naive_texts)
        naive_rate = naive_tokens / (time.perf_counter() - start)
        print(f"| {len(batch_texts)} test sentences, batch 64 (naive: {len(naive_texts)}, "
              f"batch 1) | {label} | {fast_rate:.0f} | {naive_rate:.0f} | "
              f"{fast_rate / naive_rate:.1f}x |")  # fmt: skip

    # Where beam time goes: greedy decoding of every sentence 5 times over (the 5 rows per
    # sentence a beam of 5 runs through the model at each step), without any beam
    # bookkeeping. Its rate per sentence is the ceiling the model itself sets for beam 5.
    tiled = [t for t in batch_texts for _ in range(5)]
    floor = Translator(translator.bundle, batch_size=320)
    floor.translate(tiled, beam_size=1, split=False)  # compile every shape
    start = time.perf_counter()
    results = floor.translate(tiled, beam_size=1, split=False)
    seconds = time.perf_counter() - start
    tokens = sum(t.hypotheses[0].length for t in results[::5])
    print(f"| model-only ceiling for beam 5: greedy on 5 copies of each sentence, batch 320 rows "
          f"| - | {tokens / seconds:.0f} | - | - |")  # fmt: skip


if __name__ == "__main__":
    main()
