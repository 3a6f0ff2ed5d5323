"""Helpers shared by the command-line tools: load a model or exit with a clean message.

Not for: anything a library caller needs (these print and exit).
"""

from __future__ import annotations

import sys

from seq2seq.bundle import BundleError
from seq2seq.compiled import default_cache_dir
from seq2seq.hub import HubError
from seq2seq.translator import Translator


def load_translator_or_exit(spec: str, cache_dir: str | None = None, **kwargs) -> Translator:
    """A Translator for ``spec``, or ``error: …`` on stderr and exit 1 (no traceback) when
    the model cannot be found or loaded. A Hub model's origin (commit) goes to stderr.
    Compiled graphs are kept in ``cache_dir`` (None: :func:`default_cache_dir`, as the
    app; "": nowhere), so a second process loads what the first compiled."""
    kwargs["cache_dir"] = default_cache_dir() if cache_dir is None else cache_dir
    try:
        translator = Translator.load(spec, **kwargs)
    except (HubError, BundleError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    if translator.bundle.origin:
        print(f"model: {translator.bundle.origin}", file=sys.stderr)
    return translator
