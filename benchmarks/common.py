"""Helpers shared by the benchmark scripts: test sentences, percentiles, process memory, and
an app server started on a free loopback port.

Not for: anything the library or the app uses (benchmarks only print; nothing asserts).
"""

from __future__ import annotations

import contextlib
import gzip
import ipaddress
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from webapp.launcher import DEFAULT_MODELS

ROOT = Path(__file__).resolve().parent.parent
TEST_EN_DE = "training/data/en-de/test-v1.tsv.gz"
APP_MODELS = ",".join(DEFAULT_MODELS)  # the app's own, comma-separated


# --- data ------------------------------------------------------------------------------


def load_columns(path: str | Path) -> tuple[list[str], list[str]]:
    """The first two tab-separated columns of a (gzipped) parallel file, e.g. English and
    German sentences of ``en-de/test-v1.tsv.gz``."""
    opener = gzip.open if str(path).endswith(".gz") else open
    first, second = [], []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and parts[0].strip() and parts[1].strip():
                first.append(parts[0])
                second.append(parts[1])
    return first, second


def sources_for(path: str | Path, src_lang: str) -> list[str]:
    """Sentences in ``src_lang`` from a test file whose folder names its pair (``en-de``):
    the first column if ``src_lang`` is the pair's first language, else the second."""
    pair = Path(path).parent.name.split("-")
    first, second = load_columns(path)
    return second if len(pair) == 2 and src_lang == pair[1] else first


def direction_of(model: str | Path) -> str:
    """A model folder's direction code (``en-de``) from its metadata, without loading
    Keras (``config.json``'s languages for a folder without ``metadata.json``)."""
    import json

    folder = Path(model)
    metadata = folder / "metadata.json"
    if metadata.is_file():
        return json.loads(metadata.read_text())["direction"]
    config = json.loads((folder / "config.json").read_text())
    config = config.get("model", config)  # the old layout wraps the model
    c = config["config"]["model_config"]
    return f"{c['src_lang']}-{c['tgt_lang']}"


def word_pools(test: str | Path) -> dict[str, list[str]]:
    """Words of each language of a parallel test file, in order, by language code from
    the file's folder (``{"en": [...], "de": [...]}`` for ``en-de/test-v1.tsv.gz``)."""
    langs = Path(test).parent.name.split("-")
    columns = load_columns(test)
    return {lang: " ".join(column).split() for lang, column in zip(langs, columns)}


def text_of(pool: list[str], n: int, rng: random.Random) -> str:
    """A text of ``n`` consecutive words of ``pool`` from a random place (it may span
    several test sentences, hence hold several sentences)."""
    start = rng.randrange(max(1, len(pool) - n))
    return " ".join(pool[start : start + n])


# --- figures ---------------------------------------------------------------------------


def percentile(values, q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ``values`` (nan if empty)."""
    values = sorted(values)
    if not values:
        return float("nan")
    rank = max(1, -(-len(values) * q // 100))  # ceil(n * q / 100), at least 1
    return values[int(min(rank, len(values))) - 1]


def latency_row(seconds: list[float]) -> str:
    """``p50 / p95 / p99 / max`` in ms."""
    if not seconds:
        return "- / - / - / -"
    ms = [percentile(seconds, q) * 1000 for q in (50, 95, 99, 100)]
    return " / ".join(f"{x:.0f}" for x in ms)


def proc_status(pid: int, field: str = "VmRSS") -> float:
    """A ``kB`` field of ``/proc/PID/status`` in MB (nan if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def rss_mb(pid: int | None = None) -> float:
    return proc_status(pid or os.getpid())


def map_count(pid: int | None = None) -> int:
    """Memory maps of the process (lines of ``/proc/PID/maps``; the kernel's limit is
    ``vm.max_map_count``, usually 65,530); -1 if the process is gone."""
    try:
        with open(f"/proc/{pid or os.getpid()}/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return -1


def max_map_count() -> str:
    try:
        return Path("/proc/sys/vm/max_map_count").read_text().strip()
    except OSError:
        return "?"


def machine() -> str:
    import platform

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load}"


# --- loopback ----------------------------------------------------------------------------


def loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``python app.py`` on a free loopback port, its stderr (the app's log) in a file.

    Use as a context manager; :meth:`wait_ready` returns the seconds from process start
    to the first ``/translate`` answer. The server is terminated on exit.

    ``cache_dir`` is passed as the app's ``--cache-dir`` (its on-disk compiled graphs);
    None (default): a new empty temporary folder, deleted on exit, so that every run starts
    from a cold cache whatever an earlier app left in ``~/.cache/seq2seq``.
    """

    def __init__(self, models=(), log_path=None, env=None, extra_args=(), cache_dir=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(self.port)]
        for model in models:
            command += ["--model", model]
        self.command = [*command, *extra_args]
        self.log_path = Path(log_path) if log_path else None
        self.env = {k: v for k, v in os.environ.items() if k != "SEQ2SEQ_CACHE_DIR"}
        self.env.update(env or {})
        self.cache_dir, self._own_cache = cache_dir, cache_dir is None
        self.process = None

    def cache_mb(self) -> float:
        """Size of the cache folder (MB)."""
        folder = Path(self.cache_dir) if self.cache_dir else None
        if folder is None or not folder.is_dir():
            return 0.0
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6

    def __enter__(self) -> AppServer:
        import tempfile

        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="app-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        if self._own_cache:
            self.cache_dir = tempfile.mkdtemp(prefix="app-cache-")
        self.command += ["--cache-dir", str(self.cache_dir)]
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed in __exit__)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=self._log
        )
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        if self._own_cache:
            import shutil

            shutil.rmtree(self.cache_dir, ignore_errors=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def client(self):
        from gradio_client import Client

        return Client(self.url, verbose=False)

    def wait_ready(self, text: str, timeout: float = 600):
        """Connect and get one ``/translate`` answer; returns ``(seconds since process
        start, client)``. Raises RuntimeError if the app exits or does not answer."""
        client = None
        while time.perf_counter() - self.started < timeout:
            if not self.alive():
                raise RuntimeError(
                    f"app exited with status {self.process.returncode}; see {self.log_path}"
                )
            try:
                client = client or self.client()
                client.predict(text, api_name="/translate")
                return time.perf_counter() - self.started, client
            except Exception:
                time.sleep(0.2)
        raise RuntimeError(f"app did not answer within {timeout:.0f} s; see {self.log_path}")

    def wait_page(self, timeout: float = 180) -> None:
        """Wait until the page itself answers (before any model has decoded); raises
        RuntimeError if the app exits or does not answer."""
        import urllib.request

        while time.perf_counter() - self.started < timeout:
            if not self.alive():
                raise RuntimeError(f"app exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(self.url, timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"app did not answer within {timeout:.0f} s; see {self.log_path}")

    def log_lines(self) -> list[str]:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()

    def compiled_lines(self) -> list[str]:
        """The library's ``compiled … in … s`` log lines so far."""
        return [x for x in self.log_lines() if " compiled " in x and x.rstrip().endswith(" s")]

    def compiled_seconds(self) -> float:
        """The seconds the ``compiled … in … s`` lines add up to."""
        total = 0.0
        for line in self.compiled_lines():
            with contextlib.suppress(IndexError, ValueError):
                total += float(line.rstrip().rsplit(" in ", 1)[1].split()[0])
        return total

    def warmed_directions(self) -> list[str]:
        """The app's ``warm-up DIR: …`` summary lines so far (one per direction when done)."""
        return [x for x in self.log_lines() if " warm-up " in x and "graphs compiled" in x]

    def wait_warm(self, directions: int, timeout: float) -> float | None:
        """Wait until the app logged its warm-up summary for ``directions`` directions;
        seconds since process start, or None on timeout (or exit)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and self.alive():
            if len(self.warmed_directions()) >= directions:
                return time.perf_counter() - self.started
            time.sleep(1)
        return None
