"""Load test of a running app, loopback only:
``python -m benchmarks.load_test --url http://127.0.0.1:7860 --clients 8 --requests 50``.

``clients`` threads, each with its own gradio_client, share ``requests`` calls of
``/translate`` (beam 5) over a mix of short and long test-like sentences, bounded by
``--timeout`` seconds overall. Prints successes, errors (by message), latency p50/p95/max
and throughput. A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import ipaddress
import statistics
import threading
import time
from collections import Counter
from urllib.parse import urlparse

SENTENCES = [
    "Click the arrow next to the icon to open the toolbar.",
    "Do you want to save the changes to this document?",
    "The orcs are coming! We must defend the village.",
    "Thank you very much for your help.",
    "Select the cells that you want to merge, then choose Format - Merge Cells.",
    "My brother lives in a small house near the river.",
]


def loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load_test", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=50, help="total, shared by the clients")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for the whole run")
    args = parser.parse_args(argv)
    if not loopback(args.url):
        parser.error("this load test only targets the local machine (127.0.0.0/8, ::1)")
    from gradio_client import Client

    lock, counter = threading.Lock(), iter(range(args.requests))
    latencies, errors = [], Counter()
    deadline = time.perf_counter() + args.timeout

    def client_loop():
        client = Client(args.url, verbose=False)
        while time.perf_counter() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            start = time.perf_counter()
            try:
                client.predict(SENTENCES[index % len(SENTENCES)], api_name="/translate")
                with lock:
                    latencies.append(time.perf_counter() - start)
            except Exception as e:  # count by message: the point is to see them
                with lock:
                    errors[f"{type(e).__name__}: {str(e)[:80]}"] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.perf_counter() + 30))
    wall = time.perf_counter() - start
    latencies.sort()
    answered = len(latencies) + sum(errors.values())
    print(f"{args.clients} clients, {args.requests} requests of /translate (beam 5) to {args.url}")
    print()
    print("| ok | errors | unanswered | p50 ms | p95 ms | max ms | requests/s |")
    print("|---|---|---|---|---|---|---|")
    if latencies:
        p50 = statistics.median(latencies) * 1000
        p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000
        print(f"| {len(latencies)} | {sum(errors.values())} | {args.requests - answered} | "
              f"{p50:.0f} | {p95:.0f} | {latencies[-1] * 1000:.0f} | "
              f"{len(latencies) / wall:.1f} |")  # fmt: skip
    else:
        print(f"| 0 | {sum(errors.values())} | {args.requests - answered} | - | - | - | 0 |")
    for message, n in errors.most_common():
        print(f"  {n} × {message}")


if __name__ == "__main__":
    main()
