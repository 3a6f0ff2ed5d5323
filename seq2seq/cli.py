"""What the command-line tools share: the model-loading arguments (one declaration of
``--precision`` and ``--cache-dir`` for the CLI, evaluation and the app) and loading a
model or exiting with a clean message.

Imports no Keras (the tools parse their arguments before anything slow loads).

Not for: anything a library caller needs (these print and exit).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from seq2seq import compile_cache
from seq2seq.options import PRECISIONS

if TYPE_CHECKING:
    from seq2seq.translator import Translator


def add_loading_arguments(parser: argparse.ArgumentParser, cache_default=None) -> None:
    """``--precision`` and ``--cache-dir`` (default ``cache_default``; None: the default
    folder, decided at load time)."""
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="float32",
        help="how the model computes: bfloat16 matrix products under "
        "mixed_bfloat16 (weights, softmaxes and scores float32)",
    )
    where = cache_default or "$SEQ2SEQ_CACHE_DIR, else ~/.cache/seq2seq"
    parser.add_argument(
        "--cache-dir",
        default=cache_default,
        help="keep compiled search graphs here, so a second run loads them "
        f"instead of compiling ('' = none; default {where})",
    )


def load_translator_or_exit(spec: str, cache_dir: str | None = None, **kwargs) -> Translator:
    """A Translator for ``spec``, or ``error: …`` on stderr and exit 1 (no traceback) when
    the model cannot be found or loaded. A Hub model's origin (commit) goes to stderr.
    Compiled graphs are kept in ``cache_dir`` (None: the default folder, as the app's; "":
    nowhere), so a second process loads what the first compiled; a process-wide setting
    (:mod:`seq2seq.compile_cache`): call this before any other model loads."""
    compile_cache.use(compile_cache.default_cache_dir() if cache_dir is None else cache_dir)
    from seq2seq.bundle import BundleError
    from seq2seq.hub import HubError
    from seq2seq.translator import Translator

    try:
        translator = Translator.load(spec, **kwargs)
    except (HubError, BundleError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    if translator.bundle.origin:
        print(f"model: {translator.bundle.origin}", file=sys.stderr)
    return translator
