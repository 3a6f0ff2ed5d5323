"""App figures: ``python -m benchmarks.app_latency [--models models/en-de,models/de-en,
models/en-fr] [--mixed 300] [--requests 30] [--seed 0] [--log FILE]``.

Starts ``python app.py`` on a free loopback port (its stderr, the app's log, captured to
``--log`` or a temporary file) and prints:

1. cold start to serving: process start → first ``/translate`` answer;
2. a scripted run of ``--mixed`` requests sent one after another as soon as the app
   answers (a freshly started app, its background warm-up still running): each request a
   seeded random direction among the app's models, beam size 1-10 and a text of 1-60
   words cut from the test sentences of its source language (``--test``, both columns:
   English for en-*, German for de-*), length penalty 0.6. Prints p50/p95/p99/max, how
   many took over 1 s, errors, the slowest requests with their parameters, the server's
   RSS and memory maps before and after, and the ``compiled … in … s`` lines the app
   logged (before, during and after the run);
3. the earlier figures, once the app logged its warm-up summary for every direction (or
   ``--warm-timeout`` passed): warm ``/translate`` latency p50/p95 for a 12-word sentence
   with beam 5 (``--requests`` sequential requests), the RSS after warm-up and the size
   of the app's cache folder;
4. with ``--restart``: the app started again on the same cache folder (the app's
   ``--cache-dir``; by default a new empty temporary one, so the first start is cold):
   cold start, warm-up time and the compiled lines of the second start.

Targets of issue 14 (2 cores): mixed p99 ≤ 250 ms, max ≤ 1 s, cold start ≤ 12 s.

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections import Counter

from benchmarks.common import (
    APP_MODELS,
    TEST_EN_DE,
    AppServer,
    direction_of,
    latency_row,
    machine,
    map_count,
    percentile,
    rss_mb,
    text_of,
    word_pools,
)

SENTENCE = "My brother lives in a small house near the river with his dog."  # 12 words
LENGTH_PENALTY = 0.6
CACHE_LOADS = "XlaSerializedCacheEntry"  # TensorFlow logs it when it loads a cached program


def mixed_requests(directions, pools, n, seed, max_words=60, max_beam=10):
    """``n`` seeded ``(text, direction, beam, words)`` tuples."""
    rng = random.Random(seed)
    requests = []
    for _ in range(n):
        direction = rng.choice(directions)
        pool = pools.get(direction.split("-")[0]) or pools["en"]
        words = rng.randint(1, max_words)
        requests.append((text_of(pool, words, rng), direction, rng.randint(1, max_beam), words))
    return requests


def send(client, requests):
    """Send each request; ``[(seconds, error or None, request)]``."""
    done = []
    for request in requests:
        text, direction, beam, _ = request
        start = time.perf_counter()
        try:
            client.predict(text, direction, beam, LENGTH_PENALTY, api_name="/translate")
            error = None
        except Exception as e:  # counted by message: the point is to see them
            error = f"{type(e).__name__}: {str(e)[:100]}"
        done.append((time.perf_counter() - start, error, request))
    return done


def print_mixed(done, server, before, compiled_before) -> None:
    seconds = [s for s, error, _ in done if error is None]
    errors = Counter(error for _, error, _ in done if error)
    slow = sum(1 for s, _, _ in done if s > 1.0)
    compiled_after = len(server.compiled_lines())
    print(f"### {len(done)} mixed requests to the freshly started app (sequential)\n")
    print(
        "| ok | errors | p50 / p95 / p99 / max ms | > 1 s | RSS before → after MB "
        "| maps before → after |"
    )
    print("|---|---|---|---|---|---|")
    rss, maps = (
        f"{before[0]:.0f} → {rss_mb(server.pid):.0f}",
        f"{before[1]} → {map_count(server.pid)}",
    )
    print(
        f"| {len(seconds)} | {sum(errors.values())} | {latency_row(seconds)} | {slow} "
        f"| {rss} | {maps} |"
    )
    print()
    print(
        f"compiled lines in the app's log: {compiled_before} before the run, "
        f"{compiled_after - compiled_before} during it"
    )
    by_direction = {}
    for s, error, (_, direction, _, _) in done:
        if error is None:
            by_direction.setdefault(direction, []).append(s)
    for direction, values in sorted(by_direction.items()):
        print(
            f"  {direction}: {len(values)} requests, p50 / p95 / p99 / max ms {latency_row(values)}"
        )
    print("slowest requests (ms, direction, beam, words, index):")
    ranked = sorted(enumerate(done), key=lambda item: -item[1][0])[:5]
    for index, (s, error, (_, direction, beam, words)) in ranked:
        note = f" {error}" if error else ""
        print(f"  {s * 1000:.0f} ms  {direction}  beam {beam}  {words} words  #{index}{note}")
    for message, n in errors.most_common():
        print(f"  {n} × {message}")
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_latency", description=__doc__)
    parser.add_argument("--models", default=APP_MODELS, help="comma-separated, default first")
    parser.add_argument("--model", action="append", help="a model (repeatable; replaces --models)")
    parser.add_argument("--test", default=TEST_EN_DE)
    parser.add_argument("--mixed", type=int, default=300, help="scripted mixed requests")
    parser.add_argument("--requests", type=int, default=30, help="warm 12-word requests")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log", help="keep the app's stderr here (default: a temporary file)")
    parser.add_argument(
        "--warm-timeout",
        type=float,
        default=900,
        help="seconds to wait for the app's warm-up before step 3",
    )
    parser.add_argument(
        "--cache-dir",
        help="the app's --cache-dir (default: a new empty temporary folder: a cold cache)",
    )
    parser.add_argument(
        "--restart", action="store_true", help="then start the app again on the same cache folder"
    )
    args = parser.parse_args(argv)
    models = args.model or [m for m in args.models.split(",") if m.strip()]
    directions = [direction_of(m) for m in models]
    requests = mixed_requests(directions, word_pools(args.test), args.mixed, args.seed)

    print(f"## app with {', '.join(directions)}; {machine()}\n")
    cache_dir = args.cache_dir
    if cache_dir is None and args.restart:
        cache_dir = tempfile.mkdtemp(prefix="app-latency-cache-")
    try:
        with AppServer(models, args.log, cache_dir=cache_dir) as server:
            first_start(server, client_requests=requests, directions=directions, args=args)
        if args.restart:
            print(f"\n### restart with the same cache folder ({server.cache_mb():.1f} MB)\n")
            with AppServer(models, None, cache_dir=cache_dir) as again:
                cold, _ = again.wait_ready(SENTENCE)
                warm = again.wait_warm(len(directions), args.warm_timeout)
                warm_note = f"{warm:.0f} s after start" if warm is not None else "not finished"
                print("| figure | value |")
                print("|---|---|")
                print(f"| cold start to first answer | {cold:.1f} s |")
                print(f"| warm-up of every direction done | {warm_note} |")
                print(
                    f"| compiled lines (sum of their seconds) | {len(again.compiled_lines())} "
                    f"({again.compiled_seconds():.1f} s) |"
                )
                print(
                    f"| {CACHE_LOADS!r} log lines (programs loaded from the cache) | "
                    f"{sum(1 for x in again.log_lines() if CACHE_LOADS in x)} |"
                )
                print(f"| RSS | {rss_mb(again.pid):.0f} MB |")
                print(f"app log: {again.log_path}")
    finally:
        if cache_dir is not None and args.cache_dir is None:
            shutil.rmtree(cache_dir, ignore_errors=True)


def first_start(server, client_requests, directions, args) -> None:
    cold, client = server.wait_ready(SENTENCE)
    before = rss_mb(server.pid), map_count(server.pid)
    compiled_before = len(server.compiled_lines())
    print(f"cold start to serving (process start → first /translate answer): {cold:.1f} s")
    print(f"server then: RSS {before[0]:.0f} MB, {before[1]} memory maps")
    print(f"app log: {server.log_path}; app cache folder: {server.cache_dir}\n")
    done = send(client, client_requests)
    print_mixed(done, server, before, compiled_before)

    warm = server.wait_warm(len(directions), args.warm_timeout)
    if warm is None:
        n = len(server.warmed_directions())
        print(
            f"warm-up not finished after {args.warm_timeout:.0f} s more "
            f"({n} of {len(directions)} directions)"
        )
    times = []
    for _ in range(args.requests):
        t = time.perf_counter()
        client.predict(SENTENCE, api_name="/translate")
        times.append(time.perf_counter() - t)
    warm_note = f"{warm:.0f} s after process start" if warm is not None else "not finished"
    print("| figure | value |")
    print("|---|---|")
    print(f"| cold start to first answer | {cold:.1f} s |")
    print(f"| warm-up of every direction done | {warm_note} |")
    print(
        f"| compiled lines in the app's log (sum of their seconds) | "
        f"{len(server.compiled_lines())} ({server.compiled_seconds():.1f} s) |"
    )
    retraced = sum(1 for x in server.log_lines() if "triggered tf.function retracing" in x)
    print(f"| TensorFlow 'triggered tf.function retracing' log lines | {retraced} |")
    if times:
        p50, p95 = statistics.median(times), percentile(times, 95)
        print(
            f"| warm /translate, beam 5, 12 words: p50 / p95 | {p50 * 1000:.0f} / "
            f"{p95 * 1000:.0f} ms ({args.requests} sequential requests) |"
        )
    when = "after warm-up" if warm is not None else "at the end (warm-up not finished)"
    print(
        f"| server resident memory {when} | {rss_mb(server.pid):.0f} MB, "
        f"{map_count(server.pid)} memory maps |"
    )
    print(f"| app cache folder | {server.cache_mb():.1f} MB |")
    for line in server.warmed_directions():
        print(f"  {line}")


if __name__ == "__main__":
    main()
