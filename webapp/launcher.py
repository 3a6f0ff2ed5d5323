"""Start the app: ``python app.py [--model DIR ...] [--host H] [--port P] [--share]
[--max-input-chars N] [--concurrency N] [--max-queue N] [--cache-dir DIR] [--precision P]``.

:func:`main` is the one place that sets process-wide state: environment defaults
(telemetry off, TensorFlow's log level), glibc's heap settings, the compile cache on disk,
the SIGTERM handler; then it loads the models, starts serving and warms up in the
background. Nothing runs at import.

Not for: what a request does (see :mod:`webapp.service`) or the page (see
:mod:`webapp.page`, :mod:`webapp.events`).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from seq2seq import compile_cache
from seq2seq.cli import add_loading_arguments
from webapp import limits

if TYPE_CHECKING:  # the model libraries and Gradio load in main(), after the settings
    import gradio as gr

    from seq2seq.translator import Translator

log = logging.getLogger("app")
DEFAULT_MODELS = (
    "models/en-de",
    "models/de-en",
    "models/en-fr",
    "models/en-zh",
    "models/en-de-luong",
    "models/en-de-noattn",
)
# Source widths (subword tokens) compiled with XLA after start, for one sentence at beam 1,
# 2-5 and 6-10: sentences up to ~70 words. Every graph costs ~20 MB and is shared by the
# models of one shape (the six shipped models: ~1.76 GB resident after warm-up); longer or
# multi-sentence requests run in the search's shape-agnostic graph.
WARM_MAX_WIDTH = 96
# The beam tree (recorded while the page shows it) is compiled for beam sizes 1-5 (one
# graph per warm width); beam 6-10 trees run in the shape-agnostic graph.
WARM_TREES = (5,)
# A second model of a direction (a rival for the compare view, e.g. models/en-de-luong) has
# graphs of its own: it is warmed at the default beam size only (8 graphs, ~160 MB, instead
# of 31, ~600 MB); its other beam sizes and its beam trees run in the shape-agnostic graphs.
RIVAL_BEAMS = (5,)


def load_translators(
    specs: list[str], precision: str = "float32"
) -> tuple[dict[str, Translator], list[str]]:
    """Load every model named (to compute in ``precision``). The first is the default: if
    it cannot be loaded the app refuses to start (rather than serve something else); a
    broken extra model is skipped and reported. Returns (translators by direction code,
    error messages)."""
    from seq2seq.translator import Translator

    translators, errors = {}, []
    for i, spec in enumerate(specs):
        try:
            # A server never waits on the compiler: shapes not warmed up yet (or never:
            # see WARM_MAX_WIDTH) run in the search's shape-agnostic graph.
            translator = Translator.load(spec, on_demand=False, precision=precision)
        except Exception as e:  # a broken model must not take the others down
            if i == 0:
                raise SystemExit(f"cannot load the default model {spec}: {e}") from None
            errors.append(f"{spec}: {e}")
            log.error("cannot load model %s", errors[-1])
            continue
        translators[model_key(spec, translator, translators)] = translator
    return translators, errors


def model_key(spec: str, translator: Translator, taken) -> str:
    """The key a model is offered under: its direction code (``en-de``) for the first model
    of a direction; for another (a rival to compare with) its folder or repo name when
    that starts with the code (``models/en-de-luong`` → ``en-de-luong``), else the code
    and its attention (``en-de-luong_general``), numbered if need be."""
    code = translator.bundle.direction
    if code not in taken:
        return code
    name = Path(spec.split("@")[0].rstrip("/")).name
    key = (
        name if name.startswith(f"{code}-") else f"{code}-{translator.model.model_config.attention}"
    )
    number = 2
    while key in taken:
        key, number = f"{key.rsplit('#', 1)[0]}#{number}", number + 1
    return key


def check_fonts(translators: dict[str, Translator]) -> None:
    """Log the font that draws Chinese labels, or warn that they would be empty boxes."""
    configs = [t.model.model_config for t in translators.values()]
    if not any("zh" in (c.src_lang, c.tgt_lang) for c in configs):
        return
    from webapp import views

    font = views.cjk_font()
    if font:
        log.info("Chinese labels in heat maps (the PNG downloads): font %s", font)
    else:
        log.warning(
            "no font with Chinese glyphs found (Debian: fonts-wqy-microhei): Chinese "
            "labels in the heat-map PNG downloads will be drawn as empty boxes (the page draws "
            "its heat maps in the visitor's fonts)"
        )


def limit_heap_growth() -> bool:
    """Make glibc give freed memory back, so that a server's resident size follows its
    load: the top of a heap is returned once 128 KiB of it are free, and at most 2 heaps
    (arenas) are shared by all threads instead of up to 8 per core. (By default glibc
    raises that trim threshold, up to 64 MiB, each time a large block is freed; fixing the
    mmap threshold at its maximum, 32 MiB, turns that off without moving the blocks of a
    search step into mappings of their own, which made each translation ~15 ms slower.)
    The README's reliability section has the soak figures. Returns whether it applied
    (False without glibc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8  # glibc's malloc.h
    settings = ((m_mmap_threshold, 32 << 20), (m_trim_threshold, 128 << 10), (m_arena_max, 2))
    return all(libc.mallopt(option, value) for option, value in settings)


def warm_up(translators: dict[str, Translator]) -> None:
    """Compile every shape each translator can be asked for (a rival only at the default
    beam, see :data:`RIVAL_BEAMS`); log what took how long (the library logs each graph as
    it compiles; this logs one summary per model)."""
    from seq2seq.compiled import WIDTHS

    widths = tuple(w for w in WIDTHS if w <= WARM_MAX_WIDTH)
    for code, translator in translators.items():
        start = time.perf_counter()
        rival = code != translator.bundle.direction
        beams, trees = (RIVAL_BEAMS, ()) if rival else ((1, 5, 10), WARM_TREES)
        try:
            compiled = translator.warm_up(rows=(1,), beams=beams, widths=widths, trees=trees)
        except Exception:  # a failed warm-up only costs speed: keep serving
            log.exception("warm-up of %s failed", code)
            continue
        slowest = max(compiled, key=lambda item: item[1], default=("nothing", 0.0))
        log.info(
            "warm-up %s: %d graphs compiled in %.1f s (slowest: %s, %.1f s)",
            code,
            len(compiled),
            time.perf_counter() - start,
            *slowest,
        )


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__)
    parser.add_argument(
        "--model",
        action="append",
        help="model folder or Hub repo USER/NAME[@REVISION] (repeatable; default: "
        "$TRANSLATOR_MODELS, comma-separated, else the bundled models)",
    )
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link")
    parser.add_argument("--max-input-chars", type=int, default=limits.MAX_INPUT_CHARS)
    add_loading_arguments(parser, cache_default=compile_cache.default_cache_dir())
    parser.add_argument(
        "--concurrency",
        type=int,
        default=limits.CONCURRENCY,
        help="requests decoded at once, all endpoints together",
    )
    parser.add_argument(
        "--max-queue",
        type=int,
        default=limits.MAX_QUEUE,
        help="requests waiting at most; more are refused as busy",
    )
    return parser.parse_args(argv)


def launch(blocks: gr.Blocks, args: argparse.Namespace) -> None:
    """Start serving and return (the caller blocks); Gradio features the app does not use
    are off: run history, the monitoring dashboard, MCP, footer links but the API's."""
    from webapp.page import CSS

    options = dict(
        server_name=args.host,
        server_port=args.port,
        css=CSS,
        max_file_size=limits.MAX_UPLOAD_BYTES,
        prevent_thread_lock=True,
        run_history=False,
        enable_monitoring=False,
        mcp_server=False,
        footer_links=["api"],
        state_session_capacity=limits.MAX_SESSIONS,
    )
    if args.share:
        try:
            blocks.launch(share=True, **options)
            return
        except Exception as e:  # offline: no share server can be reached
            log.error("could not create a share link (%s); serving locally only", e)
    blocks.launch(**options)


def _stop(signum, frame):
    raise KeyboardInterrupt  # Gradio's block_thread closes the server on it


def set_up_process(args: argparse.Namespace) -> None:
    """The process-wide settings, before anything heavy is imported: environment defaults
    (Gradio's analytics and the Hub's telemetry off, TensorFlow's C++ logs at warnings),
    logging, glibc's heap, the compile cache on disk (XLA reads its flags once)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not limit_heap_growth():
        log.warning("not glibc: freed memory may stay with the process")
    compile_cache.use(args.cache_dir)


def main(argv=None):
    args = parse_args(argv)
    set_up_process(args)
    from webapp.events import build_demo, result_folder

    from_env = [m for m in os.environ.get("TRANSLATOR_MODELS", "").split(",") if m.strip()]
    translators, errors = load_translators(args.model or from_env or DEFAULT_MODELS, args.precision)
    check_fonts(translators)
    results = result_folder()
    blocks = build_demo(translators, args.max_input_chars, errors, results, args.concurrency)
    blocks.queue(default_concurrency_limit=args.concurrency, max_size=args.max_queue)
    signal.signal(signal.SIGTERM, _stop)
    try:
        launch(blocks, args)
        # Compile in the background: the first visitors are answered meanwhile.
        threading.Thread(target=warm_up, args=(translators,), name="warm-up", daemon=True).start()
        blocks.block_thread()
    finally:
        results.close()


if __name__ == "__main__":
    main()
