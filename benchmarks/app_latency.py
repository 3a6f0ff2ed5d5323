"""App figures: ``python -m benchmarks.app_latency [--model DIR]``.

Starts ``python app.py`` on a free loopback port and prints: cold start to first answer
(process start → first ``/translate`` reply), warm ``/translate`` latency p50/p95 for a
12-word sentence with beam 5 (gradio_client, sequential requests), and the server's
resident memory after warm-up. A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from gradio_client import Client

SENTENCE = "My brother lives in a small house near the river with his dog."  # 12 words


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_latency", description=__doc__)
    parser.add_argument("--model", action="append")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "app.py", "--port", str(port)]
    for model in args.model or []:
        command += ["--model", model]
    start = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = None
        while client is None and time.perf_counter() - start < 300:
            try:
                client = Client(f"http://127.0.0.1:{port}", verbose=False)
            except Exception:
                time.sleep(0.2)
        client.predict(SENTENCE, api_name="/translate")
        cold = time.perf_counter() - start
        times = []
        for _ in range(args.requests):
            t = time.perf_counter()
            client.predict(SENTENCE, api_name="/translate")
            times.append(time.perf_counter() - t)
        times.sort()
        p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
        print("| figure | value |")
        print("|---|---|")
        print(f"| cold start to first answer | {cold:.1f} s |")
        print(f"| warm /translate, beam 5, 12 words: p50 / p95 | {p50 * 1000:.0f} / "
              f"{p95 * 1000:.0f} ms ({args.requests} sequential requests) |")  # fmt: skip
        print(f"| server resident memory after warm-up | {rss_mb(server.pid):.0f} MB |")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
