"""Decoding speed: ``python -m benchmarks.decode_speed [--models models/en-de,DIR2]
[--compare-jax] [--tree]``.

For each model, prints (1) single-sentence latency p50/p95 for short, medium and long test
sentences, greedy and beam 5, (2) batch throughput in target subword tokens/s (EOS
included) over test sentences at batch 64, greedy and beam 5, with the model's lexical
shortlist (the default, see :mod:`seq2seq.shortlist`) and over the whole vocabulary, and
(3) the model-only ceiling for beam 5 (greedy over 5 copies of each sentence, no beam
bookkeeping, shortlisted). The same
is measured for a naive baseline in the same run: an eager Python loop calling the model
once per step, one sentence at a time (its beam search keeps its beams as a batch of k
rows, as any beam search must). The ratio column is naive / compiled time (speed-up).
Every input shape is decoded once before timing (each new bucket compiles once), and the
graph count is printed: a table whose graphs hit the library's cap (a shape-agnostic,
non-XLA graph in the list) says so.

Source sentences come from ``--test`` in the model's source language (the column of the
pair named by the file's folder, e.g. German for a de-en model on ``en-de/…``).

``--tree`` measures only what recording the beam tree costs: single-sentence beam-5
latency per length class with ``tree=True`` and without, the two interleaved sentence by
sentence (alternating which goes first) so that a busy machine slows both alike (the last
column is the median of the ratios of each such pair, the steadiest figure); both run
in compiled graphs (the tree has a graph family of its own; without it the search's graph
is the one it always was, see ``tests/test_beam_tree.py``).

``--compare-jax`` runs the same measurement again in a subprocess with
``KERAS_BACKEND=jax`` and prints its tables after these (or a line saying JAX is not
installed). The backend of each table is printed above it.

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.common import machine, percentile, sources_for  # noqa: E402

CLASSES = (
    ("short (3-6 words)", 3, 6),
    ("medium (11-13 words)", 11, 13),
    ("long (25-40 words)", 25, 40),
)


def pick(sources, low, high, n):
    return [s for s in sources if low <= len(s.split()) <= high][:n]


def source_ids(translator, text: str) -> list[int]:
    from seq2seq.tokenizer import EOS

    return translator.tokenizer.encode_batch([text])[0] + [EOS]


def naive_decode(translator, text: str, beam_size: int, alpha: float = 0.6) -> list[int]:
    """One sentence, eager: one ``model.step`` call per output token (beam: k rows)."""
    from seq2seq.penalties import gnmt_penalty
    from seq2seq.tokenizer import BOS, EOS

    model = translator.model
    src = np.array([source_ids(translator, text)], dtype="int32")
    memory, mask, state = model.encode(src)
    max_len = translator.search.max_len(int(src.shape[1]))
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
    beams, scores = [[]] * k, np.array([0.0] + [-1e9] * (k - 1))
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
        best_open = scores.max() / gnmt_penalty(max_len, alpha)
        if len(finished) >= k and max(f[0] for f in finished) > best_open:
            break
    return max(finished)[1] if finished else beams[0]


def p50_p95(seconds):
    return statistics.median(seconds) * 1000, percentile(seconds, 95) * 1000


def time_each(fn, items, repeat=1):
    times = []
    for item in items:
        for _ in range(repeat):
            start = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - start)
    return times


def graphs_note(translator) -> str:
    graphs = translator.search.graphs()
    fallback = any(g[0] is None for g in graphs)
    note = f"{len(graphs)} graphs in the process"
    if fallback:
        note += " (cap reached: some calls ran in the shape-agnostic non-XLA graph)"
    return note


def latency_table(translator, sources, args) -> None:
    print("| sentences | search | compiled p50 / p95 ms | naive p50 / p95 ms | speed-up (p50) |")
    print("|---|---|---|---|---|")
    for name, low, high in CLASSES:
        texts = pick(sources, low, high, args.sentences)
        if not texts:
            print(f"| {name} | - | no test sentence of this length | - | - |")
            continue
        for beam in (1, 5):
            label = "greedy" if beam == 1 else f"beam {beam}"
            for text in texts:  # warm-up: compile each bucket once
                translator.translate([text], beam_size=beam)
            fast = time_each(lambda s, b=beam: translator.translate([s], beam_size=b), texts, 3)
            naive_texts = texts[: args.naive_sentences]
            slow = time_each(lambda s, b=beam: naive_decode(translator, s, b), naive_texts)
            (fp50, fp95), (sp50, sp95) = p50_p95(fast), p50_p95(slow)
            print(
                f"| {name} ({len(texts)}; naive {len(naive_texts)}) | {label} | {fp50:.0f} / "
                f"{fp95:.0f} | {sp50:.0f} / {sp95:.0f} | {sp50 / fp50:.1f}x |"
            )


def rate(translator, texts, beam: int) -> float:
    """Target tokens per second (EOS included) of the best candidates, batch 64."""
    translator.translate(texts, beam_size=beam, split=False)  # compile every bucket
    start = time.perf_counter()
    results = translator.translate(texts, beam_size=beam, split=False)
    seconds = time.perf_counter() - start
    return sum(t.hypotheses[0].length for t in results if t.hypotheses) / seconds


def throughput_table(translator, sources, args) -> None:
    from seq2seq.translator import Translator

    print(
        "| batch throughput | search | compiled tokens/s | compiled, whole vocabulary | "
        "naive tokens/s | speed-up |"
    )
    print("|---|---|---|---|---|---|")
    batch_texts = sources[: args.batch_sentences]
    whole = Translator(translator.bundle, batch_size=64, shortlist=False)
    for beam in (1, 5):
        label = "greedy" if beam == 1 else f"beam {beam}"
        fast_rate, whole_rate = (rate(t, batch_texts, beam) for t in (translator, whole))
        naive_texts = batch_texts[: args.naive_batch_sentences]
        start = time.perf_counter()
        naive_tokens = sum(len(naive_decode(translator, s, beam)) for s in naive_texts)
        naive_rate = naive_tokens / (time.perf_counter() - start)
        print(
            f"| {len(batch_texts)} test sentences, batch 64 (naive: {len(naive_texts)}, "
            f"batch 1) | {label} | {fast_rate:.0f} | {whole_rate:.0f} | {naive_rate:.0f} | "
            f"{fast_rate / naive_rate:.1f}x |"
        )

    # Where beam time goes: greedy decoding of every sentence 5 times over (the 5 rows per
    # sentence a beam of 5 runs through the model at each step), without any beam
    # bookkeeping. Its rate per sentence is the ceiling the model itself sets for beam 5.
    tiled = [t for t in batch_texts for _ in range(5)]
    ceiling = Translator(translator.bundle, batch_size=320)
    ceiling.translate(tiled, beam_size=1, split=False)  # compile every bucket
    start = time.perf_counter()
    results = ceiling.translate(tiled, beam_size=1, split=False)
    seconds = time.perf_counter() - start
    tokens = sum(t.hypotheses[0].length for t in results[::5] if t.hypotheses)
    print(
        f"| model-only ceiling for beam 5: greedy on 5 copies of each sentence, batch 320 rows "
        f"| - | {tokens / seconds:.0f} | - | - | - |"
    )


def tree_table(translator, sources, args) -> None:
    """Beam-5 latency without and with the beam tree, interleaved (see the docstring)."""
    print(
        "| sentences | beam 5, tree off: p50 / p95 ms | tree on: p50 / p95 ms | on / off "
        "(p50) | on / off (median of pairs) |"
    )
    print("|---|---|---|---|---|")
    for name, low, high in CLASSES:
        texts = pick(sources, low, high, args.sentences)
        for text in texts:  # warm-up: compile each bucket of both graph families once
            for tree in (False, True):
                translator.translate([text], beam_size=5, tree=tree)
        seconds = {False: [], True: []}
        for round_ in range(args.tree_rounds):
            for text in texts:
                for tree in (False, True) if round_ % 2 else (True, False):
                    start = time.perf_counter()
                    translator.translate([text], beam_size=5, tree=tree)
                    seconds[tree].append(time.perf_counter() - start)
        (off50, off95), (on50, on95) = p50_p95(seconds[False]), p50_p95(seconds[True])
        pairs = statistics.median(on / off for on, off in zip(seconds[True], seconds[False]))
        print(
            f"| {name} ({len(texts)} × {args.tree_rounds}) | {off50:.1f} / {off95:.1f} | "
            f"{on50:.1f} / {on95:.1f} | {on50 / off50:.3f} | {pairs:.3f} |"
        )


def measure(model: str, args) -> None:
    import keras

    from seq2seq.translator import Translator

    start = time.perf_counter()
    translator = Translator.load(model, batch_size=64, precision=args.precision)
    src_lang = translator.model.model_config.src_lang
    sources = sources_for(args.test, src_lang)
    loaded = time.perf_counter() - start
    print(
        f"### {model} ({translator.bundle.direction}, {args.precision}), backend "
        f"{keras.backend.backend()}, "
        f"sources: {args.test} ({src_lang}), loaded in {loaded:.1f} s"
    )
    print()
    if args.tree:
        tree_table(translator, sources, args)
        print(f"\n({graphs_note(translator)})\n")
        return
    latency_table(translator, sources, args)
    print(f"\n({graphs_note(translator)})\n")
    throughput_table(translator, sources, args)
    print(f"\n({graphs_note(translator)})\n")


def backend_versions() -> str:
    import keras

    backend = keras.backend.backend()
    try:
        module = __import__(backend)
        version = getattr(module, "__version__", "?")
    except ImportError:
        version = "?"
    return f"Keras {keras.__version__}, backend {backend} {version}"


def run_jax(argv: list[str]) -> None:
    """This script again with ``KERAS_BACKEND=jax``, its output streamed here."""
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    probe = subprocess.run([sys.executable, "-c", "import jax"], env=env, capture_output=True)
    print("## JAX backend (subprocess, KERAS_BACKEND=jax)\n")
    if probe.returncode != 0:
        print("JAX is not installed in this environment (`import jax` fails): no JAX figures.")
        return
    rest = [a for a in argv if a != "--compare-jax"]
    command = [sys.executable, "-m", "benchmarks.decode_speed", *rest]
    sys.stdout.flush()
    status = subprocess.run(command, env=env).returncode
    if status:
        print(f"(the JAX run exited with status {status})")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decode_speed", description=__doc__)
    parser.add_argument(
        "--models", default="models/en-de", help="comma-separated model folders, in turn"
    )
    parser.add_argument("--model", action="append", help="a model (repeatable; adds to --models)")
    parser.add_argument("--test", default="training/data/en-de/test-v1.tsv.gz")
    parser.add_argument("--sentences", type=int, default=20, help="per length class")
    parser.add_argument(
        "--naive-sentences", type=int, default=10, help="per length class, for the naive loop"
    )
    parser.add_argument("--batch-sentences", type=int, default=640)
    parser.add_argument("--naive-batch-sentences", type=int, default=64)
    parser.add_argument(
        "--tree",
        action="store_true",
        help="only the beam tree's cost: beam-5 latency with and without it",
    )
    parser.add_argument(
        "--tree-rounds",
        type=int,
        default=5,
        help="with --tree: times each sentence is decoded each way",
    )
    parser.add_argument(
        "--precision",
        default="float32",
        help="float32, mixed_bfloat16, or both comma-separated (each model "
        "measured under each, in turn)",
    )
    parser.add_argument(
        "--compare-jax",
        action="store_true",
        help="also run under KERAS_BACKEND=jax in a subprocess",
    )
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    models = [m for m in args.models.split(",") if m.strip()]
    if args.model:
        models = args.model if args.models == parser.get_default("models") else models + args.model

    print(f"## {backend_versions()}; {machine()}\n")
    precisions = args.precision.split(",")
    for model in models:
        for precision in precisions:
            measure(model, argparse.Namespace(**{**vars(args), "precision": precision}))
    if args.compare_jax:
        import keras

        if keras.backend.backend() == "jax":
            print("(--compare-jax: this run already uses JAX)")
        else:
            run_jax(argv)


if __name__ == "__main__":
    main()
