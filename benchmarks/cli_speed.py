"""The CLI from process start vs warm decoding: ``python -m benchmarks.cli_speed
[--model models/en-de] [--sentences 2000] [--beam-size 5] [--batch-size 64]``.

Writes the first ``--sentences`` source sentences of ``--test`` (in the model's source
language) to a file and times, from process start to exit,
``python -m seq2seq.translate --model M --beam-size 5 --batch-size 64 -i FILE -o OUT``:

1. without an on-disk compilation cache (``SEQ2SEQ_CACHE_DIR=""``; the CLI's default is
   ``~/.cache/seq2seq``);
2. with ``SEQ2SEQ_CACHE_DIR`` set to a new temporary folder: a first process (cold cache)
   and a second one (warm cache), as two runs of the CLI with its default cache.

Then the warm decoding time of the same run in this process: the CLI's own
``translate_stream`` over the same file twice with one translator, the second pass timed
(every bucket already compiled). Prints total wall, warm decode, their ratio (the issue's
target: ≤ 1.25) and target words/s (whitespace words of the output), and whether the
CLI's output equals the in-process output. ``--no-cache-runs`` skips step 2;
``--xla-flags-runs`` adds two processes with TensorFlow's own XLA disk cache set in
``TF_XLA_FLAGS`` before start (``--tf_xla_persistent_cache_directory``), to compare with
what ``SEQ2SEQ_CACHE_DIR`` achieves.

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.common import ROOT, direction_of, machine, sources_for  # noqa: E402


def rate(n: float, seconds: float) -> str:
    value = n / seconds if seconds else float("nan")
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def words(text: str) -> int:
    return sum(len(line.split()) for line in text.splitlines())


def folder_mb(folder: Path) -> float:
    files = folder.rglob("*") if folder.is_dir() else []
    return sum(f.stat().st_size for f in files if f.is_file()) / 1e6


def run_cli(args, source: Path, out: Path, env: dict) -> tuple[float, int, str]:
    """Seconds from process start to exit, exit status, last stderr lines."""
    command = [
        sys.executable,
        "-m",
        "seq2seq.translate",
        "--model",
        args.model,
        "--beam-size",
        str(args.beam_size),
        "--batch-size",
        str(args.batch_size),
        "-i",
        str(source),
        "-o",
        str(out),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    errors = [x for x in done.stderr.splitlines() if x.startswith("error")]
    return seconds, done.returncode, "; ".join(errors[-3:])


def warm_decode(args, source: Path) -> tuple[float, float, str]:
    """(first pass seconds, second pass seconds, output) of the CLI's decoding in-process."""
    from seq2seq import translate
    from seq2seq.translator import Translator

    options = ["--beam-size", str(args.beam_size), "--batch-size", str(args.batch_size)]
    cli_args = translate.parse_args(["--model", args.model, *options, "-i", str(source)])
    translator = Translator.load(args.model, batch_size=args.batch_size)
    translate.use_model_alpha(cli_args, translator)  # as the CLI does
    data = source.read_bytes()
    times, text = [], ""
    for _ in range(2):
        out = io.BytesIO()
        start = time.perf_counter()
        translate.translate_stream(translator, cli_args, io.BytesIO(data), out)
        times.append(time.perf_counter() - start)
        text = out.getvalue().decode("utf-8")
    return times[0], times[1], text


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_speed", description=__doc__)
    parser.add_argument("--model", default="models/en-de")
    parser.add_argument("--test", default="training/data/en-de/test-v1.tsv.gz")
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--no-cache-runs", action="store_true", help="skip the runs with SEQ2SEQ_CACHE_DIR"
    )
    parser.add_argument(
        "--xla-flags-runs",
        action="store_true",
        help="also two runs with TensorFlow's XLA disk cache set through "
        "TF_XLA_FLAGS before the process starts",
    )
    args = parser.parse_args(argv)

    src_lang = direction_of(args.model).split("-")[0]  # no Keras in this process yet
    sentences = sources_for(args.test, src_lang)[: args.sentences]
    print(
        f"## CLI on {len(sentences)} sentences of {args.test} ({src_lang}), {args.model}, "
        f"beam {args.beam_size}, batch {args.batch_size}; {machine()}\n"
    )

    with tempfile.TemporaryDirectory(prefix="cli-speed-") as tmp:
        tmp = Path(tmp)
        source = tmp / "source.txt"
        source.write_text("".join(s + "\n" for s in sentences), encoding="utf-8")
        env = {**os.environ, "SEQ2SEQ_CACHE_DIR": ""}  # "": no disk cache
        runs = [("CLI, no disk cache", env)]
        if not args.no_cache_runs:
            cache_env = {**env, "SEQ2SEQ_CACHE_DIR": str(tmp / "cache")}
            runs += [
                ("CLI, SEQ2SEQ_CACHE_DIR, 1st process (cold cache)", cache_env),
                ("CLI, SEQ2SEQ_CACHE_DIR, 2nd process (warm cache)", cache_env),
            ]
        if args.xla_flags_runs:
            flag = f"--tf_xla_persistent_cache_directory={tmp / 'xla-flags'}"
            flags = f"{env.get('TF_XLA_FLAGS', '')} {flag}".strip()
            xla_env = {**env, "TF_XLA_FLAGS": flags}
            runs += [
                ("CLI, TF_XLA_FLAGS set before start, 1st process", xla_env),
                ("CLI, TF_XLA_FLAGS set before start, 2nd process", xla_env),
            ]
        results = []
        for i, (name, run_env) in enumerate(runs):
            out = tmp / f"out-{i}.txt"
            seconds, status, errors = run_cli(args, source, out, run_env)
            text = out.read_text(encoding="utf-8") if out.exists() else ""
            results.append((name, seconds, status, errors, text))
        cache_mb, flags_mb = folder_mb(tmp / "cache"), folder_mb(tmp / "xla-flags")
        first, warm, warm_text = warm_decode(args, source)

    n_words = words(warm_text)
    print("| run | wall s | ÷ warm decode | target words/s | exit | output = in-process |")
    print("|---|---|---|---|---|---|")
    for name, seconds, status, _, text in results:
        same = "yes" if text == warm_text else f"no ({len(text.splitlines())} lines)"
        print(
            f"| {name} | {seconds:.1f} | {seconds / warm:.2f} | {rate(words(text), seconds)} "
            f"| {status} | {same} |"
        )
    print(
        f"| in-process, 1st pass (compiles every bucket) | {first:.1f} | {first / warm:.2f} "
        f"| {rate(n_words, first)} | - | - |"
    )
    print(
        f"| in-process, 2nd pass: warm decoding | {warm:.1f} | 1.00 | {rate(n_words, warm)} "
        f"| - | - |"
    )
    print()
    print(f"{n_words} target words; target: CLI wall ≤ 1.25 × warm decode")
    if not args.no_cache_runs:
        print(f"disk cache after the two cached runs: {cache_mb:.1f} MB")
        if not cache_mb:
            print("  (SEQ2SEQ_CACHE_DIR stayed empty: no compiled program was written to disk)")
    if args.xla_flags_runs:
        print(f"TF_XLA_FLAGS cache folder after its two runs: {flags_mb:.1f} MB")
    for name, _, status, errors, _ in results:
        if status or errors:
            print(f"{name}: exit {status} {errors}")


if __name__ == "__main__":
    main()
