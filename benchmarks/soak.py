"""Soak: memory and compiled graphs over many varied calls (issue 15).

``python -m benchmarks.soak [--calls 10000] [--requests 2000] [--minutes 30] [--every 500]``
``python -m benchmarks.soak --attack``

Soak (default), two parts, each bounded by ``--minutes``:

1. Library: ``--calls`` calls of ``Translator.translate`` on ``--model`` (models/en-de)
   in this process, each varied (seeded): 1-4 texts of 1-60 words cut from the test
   sentences, beam 1-10, n-best 1-beam, length penalty 0-2, sentence splitting on or off;
   about 5 % sampling (temperature, top-k, seed) and 2 % empty or invisible texts. Prints,
   every ``--every`` calls, this process's RSS (``/proc/self/status``), its memory-map
   count (``/proc/self/maps`` lines) and ``len(translator.search.graphs())``.
2. App: a freshly started ``python app.py`` (``--models``, the app's five by default) on a free
   loopback port; once it logged its warm-up for every direction (or
   ``--warm-timeout``), ``--requests`` varied requests, sequential: ``/translate`` (70 %),
   ``/beam`` (20 %) and ``/attention`` (10 %), random direction, beam 1-10, 1-60 words.
   Prints the server's RSS and memory maps every ``--every`` requests, and the
   ``compiled … in … s`` lines it logged. Issue 15's targets: ≤ 1.5 GB after warm-up,
   ≤ 5 % growth over the soak.

``--skip-library`` / ``--skip-app`` run one part only.

``--sessions N``: memory per page session, against a freshly started app (``--models``):
``N`` page translations, each from a new session (a new Gradio session hash, as a new
visitor's tab), through the page's own event (``ui_translate``, over Gradio's queue
protocol, since the page's events are not offered to API clients), each a new text of
1-60 words (so new request shapes too) at beam 1-10. Prints the server's RSS and memory
maps every ``--every`` sessions: a session keeps its result and page state for at most
``app.SESSION_MAX_AGE`` and the server at most ``app.MAX_SESSIONS`` sessions, so RSS
should level off once that many exist.

``--attack``: the shape attack of issue 15 against a freshly started app (at once, its
warm-up still running; after its warm-up with ``--wait-warm``): 270 ``/translate``
requests, each a new combination of direction (3), beam size (1-10) and source length
(8, 16, …, 72 subword pieces with EOS: 9 lengths), in a seeded random order. Prints RSS
and memory maps every 30 requests and, at the end, whether the app still serves, its RSS
and maps, latencies and errors.

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import time
import unicodedata
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.common import (  # noqa: E402
    APP_MODELS,
    TEST_EN_DE,
    AppServer,
    direction_of,
    latency_row,
    machine,
    map_count,
    max_map_count,
    rss_mb,
    text_of,
    word_pools,
)

ODD_TEXTS = ["", "   ", "\u200b", "\ufeff", "o", "é", "...", "\u2028"]
PROBE = "Thank you very much for your help."


class Curve:
    """Rows of ``calls | seconds | RSS MB | maps | extra`` printed as they come."""

    def __init__(self, what: str, extra: str):
        self.rows: list[tuple[int, float, float, int]] = []
        self.start = time.perf_counter()
        print(f"| {what} | seconds | RSS MB | memory maps | {extra} | errors so far |")
        print("|---|---|---|---|---|---|")

    def sample(self, n: int, pid: int, extra, errors: int) -> None:
        seconds, rss, maps = time.perf_counter() - self.start, rss_mb(pid), map_count(pid)
        self.rows.append((n, seconds, rss, maps))
        print(f"| {n} | {seconds:.0f} | {rss:.0f} | {maps} | {extra} | {errors} |", flush=True)

    def summary(self, label: str) -> None:
        if len(self.rows) < 2:
            return
        (_, _, rss0, maps0), (n, _, rss1, maps1) = self.rows[0], self.rows[-1]
        growth = 100 * (rss1 - rss0) / rss0 if rss0 else float("nan")
        print(
            f"\n{label}: RSS {rss0:.0f} → {rss1:.0f} MB ({growth:+.1f} %), memory maps "
            f"{maps0} → {maps1}, over {n} calls"
        )
        if len(self.rows) > 2:
            _, _, rss_a, _ = self.rows[1]
            later = 100 * (rss1 - rss_a) / rss_a if rss_a else float("nan")
            print(f"  from the second sample ({self.rows[1][0]} calls) on: {later:+.1f} %")


# --- library -------------------------------------------------------------------------


def library_call(rng: random.Random, pool: list[str]) -> tuple[list[str], dict]:
    """Texts and keyword arguments of one varied ``translate`` call."""
    texts = [text_of(pool, rng.randint(1, 60), rng) for _ in range(rng.choice((1, 1, 2, 3, 4)))]
    if rng.random() < 0.02:
        texts[0] = rng.choice(ODD_TEXTS)
    beam = rng.randint(1, 10)
    kwargs = dict(
        beam_size=beam,
        n_best=rng.randint(1, beam),
        length_penalty=round(rng.uniform(0.0, 2.0), 2),
        split=rng.random() < 0.8,
    )
    if rng.random() < 0.05:
        kwargs.update(
            temperature=round(rng.uniform(0.3, 1.5), 2),
            top_k=rng.choice((0, 5, 50)),
            n_best=rng.randint(1, 3),
            seed=rng.randrange(10_000),
        )
    return texts, kwargs


def soak_library(args, pools) -> None:
    from seq2seq.translator import Translator

    start = time.perf_counter()
    translator = Translator.load(args.model)
    pool = pools[translator.model.model_config.src_lang]
    print(
        f"### library: {args.calls} varied calls on {args.model} "
        f"(loaded in {time.perf_counter() - start:.1f} s), at most {args.minutes:g} min\n"
    )
    rng, errors = random.Random(args.seed), Counter()
    deadline = time.perf_counter() + args.minutes * 60
    curve = Curve("calls", "graphs")
    curve.sample(0, os.getpid(), len(translator.search.graphs()), 0)
    slowest = (0.0, None)
    done = 0
    for done in range(1, args.calls + 1):
        texts, kwargs = library_call(rng, pool)
        t = time.perf_counter()
        try:
            translator.translate(texts, **kwargs)
        except ValueError as e:  # the library's own refusals (caps)
            errors[f"ValueError: {str(e)[:80]}"] += 1
        except Exception as e:  # anything else is a finding
            errors[f"{type(e).__name__}: {str(e)[:80]}"] += 1
        seconds = time.perf_counter() - t
        if seconds > slowest[0]:
            slowest = (seconds, (done, [len(x.split()) for x in texts], kwargs))
        out_of_time = time.perf_counter() > deadline
        if done % args.every == 0 or done == args.calls or out_of_time:
            curve.sample(done, os.getpid(), len(translator.search.graphs()), errors.total())
        if out_of_time:
            print(f"\n(stopped after {args.minutes:g} min: {done} of {args.calls} calls)")
            break
    curve.summary("library")
    graphs = translator.search.graphs()
    fallback = sum(1 for g in graphs if g[0] is None)
    print(f"graphs at the end: {len(graphs)} ({fallback} shape-agnostic)")
    print(f"slowest call: {slowest[0] * 1000:.0f} ms (call, words per text, options): {slowest[1]}")
    for message, n in errors.most_common(10):
        print(f"  {n} × {message}")
    print()


# --- app -------------------------------------------------------------------------------


def app_request(rng: random.Random, directions, pools):
    """``(api_name, arguments, description)`` of one varied request."""
    direction = rng.choice(directions)
    words = rng.randint(1, 60)
    text = text_of(pools.get(direction.split("-")[0], pools["en"]), words, rng)
    beam, lp = rng.randint(1, 10), round(rng.uniform(0.0, 2.0), 2)
    what = rng.random()
    if what < 0.7:
        return "/translate", (text, direction, beam, lp), f"{direction} beam {beam} {words} w"
    if what < 0.9:
        n_best = rng.randint(1, beam)
        return "/beam", (text, direction, beam, n_best, lp), f"{direction} beam {beam} {words} w"
    return "/attention", (text, direction, beam, 1), f"{direction} beam {beam} {words} w"


def call(client, api_name, arguments):
    """``(seconds, error message or None)``."""
    start = time.perf_counter()
    try:
        client.predict(*arguments, api_name=api_name)
        error = None
    except Exception as e:  # counted by message
        error = f"{type(e).__name__}: {str(e)[:100]}"
    return time.perf_counter() - start, error


def soak_app(args, pools, models, directions) -> None:
    print(
        f"### app: {args.requests} varied requests to a fresh app ({', '.join(directions)}), "
        f"at most {args.minutes:g} min after its warm-up\n"
    )
    with AppServer(models, args.log, cache_dir=args.cache_dir) as server:
        cold, client = server.wait_ready(PROBE)
        print(
            f"serving {cold:.1f} s after start; RSS {rss_mb(server.pid):.0f} MB; "
            f"app log: {server.log_path}"
        )
        warm = server.wait_warm(len(directions), args.warm_timeout)
        state = f"{warm:.0f} s after start" if warm is not None else "NOT finished (timeout)"
        print(
            f"warm-up of every direction: {state}; RSS {rss_mb(server.pid):.0f} MB, "
            f"{map_count(server.pid)} maps, {len(server.compiled_lines())} compiled lines\n"
        )
        rng, errors, times = random.Random(args.seed + 1), Counter(), []
        slow: list[tuple[float, str]] = []
        deadline = time.perf_counter() + args.minutes * 60
        curve = Curve("requests", "compiled lines")
        curve.sample(0, server.pid, len(server.compiled_lines()), 0)
        for done in range(1, args.requests + 1):
            api_name, arguments, description = app_request(rng, directions, pools)
            seconds, error = call(client, api_name, arguments)
            times.append(seconds)
            if error:
                errors[error] += 1
            slow = sorted([*slow, (seconds, f"#{done} {api_name} {description}")])[-5:]
            out_of_time = time.perf_counter() > deadline
            if done % args.every == 0 or done == args.requests or out_of_time:
                curve.sample(done, server.pid, len(server.compiled_lines()), errors.total())
            if not server.alive():
                print(f"\nTHE APP EXITED (status {server.process.returncode}) after {done}")
                break
            if out_of_time:
                print(f"\n(stopped after {args.minutes:g} min: {done} of {args.requests})")
                break
        curve.summary("app")
        print(
            f"latency p50 / p95 / p99 / max ms: {latency_row(times)}; "
            f"{sum(1 for t in times if t > 1)} over 1 s"
        )
        for seconds, what in reversed(slow):
            print(f"  {seconds * 1000:.0f} ms  {what}")
        for message, n in errors.most_common(10):
            print(f"  {n} × {message}")
        print()


# --- page sessions ----------------------------------------------------------------------


class PageEvent:
    """One of the page's events, called as the browser calls it: join Gradio's queue with
    a session hash, then read the event stream until the result."""

    def __init__(self, url: str, api_name: str):
        import json
        import urllib.request

        self.url, self._json, self._request = url, json, urllib.request
        with urllib.request.urlopen(f"{url}/config", timeout=30) as answer:
            config = json.load(answer)
        dependency = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
        self.fn_index, self.trigger = dependency["id"], dependency["targets"][0][0]

    def __call__(self, session: str, data: list) -> str | None:
        """Run the event in ``session``; None on success, else the error message."""
        body = {
            "data": data,
            "event_data": None,
            "fn_index": self.fn_index,
            "trigger_id": self.trigger,
            "session_hash": session,
        }
        join = self._request.Request(
            f"{self.url}/gradio_api/queue/join",
            data=self._json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        self._request.urlopen(join, timeout=60).read()
        stream = f"{self.url}/gradio_api/queue/data?session_hash={session}"
        with self._request.urlopen(stream, timeout=300) as events:
            for line in events:
                if not line.startswith(b"data:"):
                    continue
                message = self._json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    ok = message.get("success")
                    return None if ok else str(message.get("output", {}).get("error"))[:100]
        return "the event stream ended without a result"


def soak_sessions(args, pools, models, directions) -> None:
    import uuid

    print(
        f"### page sessions: {args.sessions} translations, each in a new session, to a fresh "
        f"app ({', '.join(directions)})\n"
    )
    with AppServer(models, args.log, cache_dir=args.cache_dir) as server:
        cold, _ = server.wait_ready(PROBE)
        warm = server.wait_warm(len(directions), args.warm_timeout)
        state = f"{warm:.0f} s after start" if warm is not None else "NOT finished (timeout)"
        print(f"serving {cold:.1f} s after start; warm-up of every direction: {state}\n")
        event = PageEvent(server.url, "ui_translate")
        rng, errors, times = random.Random(args.seed + 2), Counter(), []
        curve = Curve("sessions", "seconds per session (last)")
        curve.sample(0, server.pid, "-", 0)
        for done in range(1, args.sessions + 1):
            direction = rng.choice(directions)
            text = text_of(pools.get(direction.split("-")[0], pools["en"]), rng.randint(1, 60), rng)
            beam = rng.randint(1, 10)
            data = [text, direction, beam, min(3, beam), 1.0, "", False, False, None]
            start = time.perf_counter()
            error = event(uuid.uuid4().hex, data)
            times.append(time.perf_counter() - start)
            if error:
                errors[error] += 1
            if done % args.every == 0 or done == args.sessions:
                curve.sample(done, server.pid, f"{times[-1]:.2f}", errors.total())
            if not server.alive():
                print(f"\nTHE APP EXITED (status {server.process.returncode}) after {done}")
                break
        curve.summary("sessions")
        print(f"latency p50 / p95 / p99 / max ms: {latency_row(times)}")
        for message, n in errors.most_common(10):
            print(f"  {n} × {message}")
        print()


# --- the shape attack ------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+")  # letters only: no sentence ends, no digits


class PieceCounter:
    """Texts of an exact number of subword pieces for one model's tokenizer (loaded with
    sentencepiece directly, so this process does not load Keras)."""

    def __init__(self, model_folder: str, pool: list[str]):
        import sentencepiece as spm

        path = Path(model_folder) / "tokenizer.model"
        if not path.is_file():
            path = Path(model_folder) / "assets" / "tokenizer.model"
        self.sp = spm.SentencePieceProcessor(model_file=str(path))
        self.pool = [w for w in pool if _WORD.fullmatch(w)]
        self.filler = next(w for w in self.pool if self.count(w) == 1)

    def count(self, text: str) -> int:
        return len(self.sp.encode(unicodedata.normalize("NFC", text)))

    def text(self, pieces: int, rng: random.Random) -> str:
        """A text of exactly ``pieces`` pieces (without EOS)."""
        words, i = [], rng.randrange(len(self.pool))
        while True:
            candidate = [*words, self.pool[i % len(self.pool)]]
            i += 1
            if self.count(" ".join(candidate)) > pieces:
                break
            words = candidate
        while self.count(" ".join(words)) < pieces:
            words.append(self.filler)
        return " ".join(words)


def attack(args, pools, models, directions) -> None:
    rng = random.Random(args.seed)
    counters = {
        d: PieceCounter(m, pools.get(d.split("-")[0], pools["en"]))
        for m, d in zip(models, directions)
    }
    combos = [
        (d, beam, width) for d in directions for beam in range(1, 11) for width in range(8, 73, 8)
    ]
    rng.shuffle(combos)
    combos = combos[: args.attack_requests]
    texts = [counters[d].text(width - 1, rng) for d, _, width in combos]  # + EOS = width
    print(
        f"### shape attack: {len(combos)} /translate requests, each a new (direction, beam, "
        f"source pieces with EOS) of {len(directions)} × 10 × 9, to a fresh app; "
        f"vm.max_map_count {max_map_count()}\n"
    )
    with AppServer(models, args.log, cache_dir=args.cache_dir) as server:
        cold, client = server.wait_ready(PROBE)
        print(f"serving {cold:.1f} s after start; app log: {server.log_path}")
        if args.wait_warm:
            warm = server.wait_warm(len(directions), args.warm_timeout)
            state = f"{warm:.0f} s after start" if warm is not None else "NOT finished (timeout)"
            print(f"attacking after the warm-up of every direction: {state}")
        else:
            print("attacking at once (the app's background warm-up still running)")
        print()
        errors, times = Counter(), []
        curve = Curve("requests", "compiled lines")
        curve.sample(0, server.pid, len(server.compiled_lines()), 0)
        for done, ((direction, beam, _), text) in enumerate(zip(combos, texts), 1):
            seconds, error = call(client, "/translate", (text, direction, beam, 0.6))
            times.append(seconds)
            if error:
                errors[error] += 1
            if done % 30 == 0 or done == len(combos):
                curve.sample(done, server.pid, len(server.compiled_lines()), errors.total())
            if not server.alive():
                print(f"\nTHE APP EXITED (status {server.process.returncode}) after {done}")
                break
        alive = server.alive()
        probe = call(client, "/translate", (PROBE, directions[0], 5, 0.6)) if alive else None
        serves = alive and probe[1] is None
        curve.summary("attack")
        if serves:
            note = f"yes (a probe request answered in {probe[0] * 1000:.0f} ms)"
        elif alive:
            note = f"NO: the process runs but a probe request failed: {probe[1]}"
        else:
            note = f"NO: the app exited with status {server.process.returncode}"
        print(f"still serving after the attack: {note}")
        print(
            f"latency p50 / p95 / p99 / max ms: {latency_row(times)}; "
            f"{sum(1 for t in times if t > 1)} over 1 s"
        )
        for message, n in errors.most_common(10):
            print(f"  {n} × {message}")
        tail = [x for x in server.log_lines() if "error" in x.lower()][-5:]
        for line in tail:
            print(f"  log: {line[:160]}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--calls", type=int, default=10_000, help="library calls")
    parser.add_argument("--requests", type=int, default=2_000, help="app requests")
    parser.add_argument("--minutes", type=float, default=30, help="bound of each part")
    parser.add_argument("--every", type=int, default=500, help="print a sample every N")
    parser.add_argument("--model", default="models/en-de", help="for the library part")
    parser.add_argument("--models", default=APP_MODELS, help="the app's, comma-separated")
    parser.add_argument("--test", default=TEST_EN_DE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-library", action="store_true")
    parser.add_argument("--skip-app", action="store_true")
    parser.add_argument("--attack", action="store_true", help="the shape attack only")
    parser.add_argument(
        "--sessions",
        type=int,
        default=0,
        help="only this many page translations, each in a new session",
    )
    parser.add_argument("--attack-requests", type=int, default=270, help="at most 270")
    parser.add_argument(
        "--wait-warm", action="store_true", help="--attack: wait for the app's warm-up first"
    )
    parser.add_argument(
        "--warm-timeout", type=float, default=900, help="seconds to wait for the app's warm-up"
    )
    parser.add_argument("--log", help="keep the app's stderr here (default: a temporary file)")
    parser.add_argument(
        "--cache-dir",
        help="the app's compiled-graph cache (default: a new "
        "empty folder, so the warm-up compiles everything)",
    )
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error("--every must be at least 1")
    models = [m for m in args.models.split(",") if m.strip()]
    directions = [direction_of(m) for m in models]
    pools = word_pools(args.test)
    print(f"## {machine()}\n")
    if args.attack:
        attack(args, pools, models, directions)
        return
    if args.sessions:
        soak_sessions(args, pools, models, directions)
        return
    if not args.skip_library:
        soak_library(args, pools)
    if not args.skip_app:
        soak_app(args, pools, models, directions)


if __name__ == "__main__":
    main()
