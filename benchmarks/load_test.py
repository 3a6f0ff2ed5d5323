"""Load test of a running app, loopback only:
``python -m benchmarks.load_test --url http://127.0.0.1:7860 --clients 16
--requests-per-client 30 [--directions en-de,de-en,en-fr] [--beams 1-10]
[--endpoints translate,beam,beam_tree] [--pid PID]``.

``--clients`` threads, each with its own gradio_client, send requests to the app's API
(``--requests-per-client`` each, or ``--requests`` in all, shared), bounded by
``--timeout`` seconds overall. The requests are mixed and seeded: a random endpoint of
``--endpoints`` (default ``translate``; ``beam`` and ``beam_tree`` ask for up to 5
candidates), a random direction of ``--directions``, a beam size from ``--beams`` (``5``
or a range ``1-10``) and a text of 1 to ``--max-words`` words cut from the test sentences
of the direction's source language (``--test``: English for en-*, German for de-*).
Prints successes, errors (by message), latency p50/p95/p99/max overall, per endpoint and
per direction, throughput, and with ``--pid`` the server's RSS and memory maps before and
after.

Start the app first, e.g. ``python app.py --port 7860 &`` (the app's five models by default),
and wait for its warm-up lines in the log if the figures should exclude it.

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections import Counter, defaultdict

from benchmarks.common import (
    TEST_EN_DE,
    latency_row,
    loopback,
    machine,
    map_count,
    rss_mb,
    text_of,
    word_pools,
)


def beam_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        low, high = int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or LOW-HIGH, got {text!r}") from None
    if not 1 <= low <= high:
        raise argparse.ArgumentTypeError(f"expected 1 ≤ LOW ≤ HIGH, got {text!r}")
    return low, high


ENDPOINTS = ("translate", "beam", "beam_tree")


def make_requests(args, n: int) -> list[tuple[str, str, str, int]]:
    """``n`` seeded ``(endpoint, text, direction, beam)``."""
    rng, pools = random.Random(args.seed), word_pools(args.test)
    directions = [d for d in args.directions.split(",") if d.strip()]
    requests = []
    for _ in range(n):
        direction = rng.choice(directions)
        pool = pools.get(direction.split("-")[0]) or pools["en"]
        text = text_of(pool, rng.randint(1, args.max_words), rng)
        beam = rng.randint(*args.beams)
        requests.append((rng.choice(args.endpoints), text, direction, beam))
    return requests


def endpoint_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ENDPOINTS))
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"endpoints are {', '.join(ENDPOINTS)}; got {text!r}")
    return names


def call(client, endpoint: str, text: str, direction: str, beam: int, length_penalty: float):
    if endpoint == "translate":
        return client.predict(text, direction, beam, length_penalty, api_name="/translate")
    return client.predict(
        text, direction, beam, min(beam, 5), length_penalty, api_name=f"/{endpoint}"
    )


def memory(pid) -> str:
    return f"RSS {rss_mb(pid):.0f} MB, {map_count(pid)} memory maps" if pid else ""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load_test", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=None, help="total, shared by the clients")
    parser.add_argument(
        "--requests-per-client", type=int, default=30, help="used when --requests is not given"
    )
    parser.add_argument("--directions", default="en-de,de-en,en-fr")
    parser.add_argument("--beams", type=beam_range, default=(1, 10), help="N or LOW-HIGH")
    parser.add_argument(
        "--endpoints",
        type=endpoint_list,
        default=["translate"],
        help=f"comma-separated, of {', '.join(ENDPOINTS)} (default: translate)",
    )
    parser.add_argument("--max-words", type=int, default=60)
    parser.add_argument("--length-penalty", type=float, default=0.6)
    parser.add_argument("--test", default=TEST_EN_DE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pid", type=int, help="the server's process id, for RSS and maps")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the whole run")
    args = parser.parse_args(argv)
    if not loopback(args.url):
        parser.error("this load test only targets the local machine (127.0.0.0/8, ::1)")
    if args.clients < 1 or args.max_words < 1:
        parser.error("--clients and --max-words must be at least 1")
    total = args.requests if args.requests is not None else args.clients * args.requests_per_client
    requests = make_requests(args, total)
    from gradio_client import Client

    lock, counter = threading.Lock(), iter(range(total))
    latencies, errors = [], Counter()
    by_direction, by_endpoint = defaultdict(list), defaultdict(list)
    deadline = time.perf_counter() + args.timeout

    def client_loop():
        try:
            client = Client(args.url, verbose=False)
        except Exception as e:
            with lock:
                errors[f"connect: {type(e).__name__}: {str(e)[:80]}"] += 1
            return
        while time.perf_counter() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            endpoint, text, direction, beam = requests[index]
            start = time.perf_counter()
            try:
                call(client, endpoint, text, direction, beam, args.length_penalty)
                with lock:
                    latencies.append(time.perf_counter() - start)
                    by_direction[direction].append(latencies[-1])
                    by_endpoint[endpoint].append(latencies[-1])
            except Exception as e:  # count by message: the point is to see them
                with lock:
                    errors[f"{type(e).__name__}: {str(e)[:80]}"] += 1

    print(
        f"{args.clients} clients, {total} mixed requests to /{', /'.join(args.endpoints)} "
        f"({args.directions}; "
        f"beam {args.beams[0]}-{args.beams[1]}; 1-{args.max_words} words) to {args.url}; "
        f"{machine()}"
    )
    if args.pid:
        print(f"server before: {memory(args.pid)}")
    print()
    start = time.perf_counter()
    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.perf_counter() + 30))
    wall = time.perf_counter() - start
    with lock:
        answered = len(latencies) + sum(errors.values())
        print("| ok | errors | unanswered | p50 / p95 / p99 / max ms | > 1 s | requests/s |")
        print("|---|---|---|---|---|---|")
        print(
            f"| {len(latencies)} | {sum(errors.values())} | {max(0, total - answered)} "
            f"| {latency_row(latencies)} | {sum(1 for x in latencies if x > 1)} "
            f"| {len(latencies) / wall:.1f} |"
        )
        for name, values in [*sorted(by_endpoint.items()), *sorted(by_direction.items())]:
            print(f"  {name}: {len(values)} ok, p50 / p95 / p99 / max ms {latency_row(values)}")
        for message, n in errors.most_common():
            print(f"  {n} × {message}")
    if args.pid:
        print(f"server after: {memory(args.pid)}")


if __name__ == "__main__":
    main()
