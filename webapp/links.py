"""Share links: a URL that reopens the page with an input and runs it, and the inputs such
a URL asks for.

Not for: the page's widgets (see :mod:`webapp.page`).
"""

from __future__ import annotations

import math
from typing import NamedTuple
from urllib.parse import urlencode

from seq2seq.options import MAX_BEAM
from webapp.service import TranslationService


class Prefill(NamedTuple):
    text: str
    direction: str
    beam: int
    n_best: int
    alpha: float


def share_link(request, text, beam, n_best, alpha, direction) -> str:
    """A URL that reopens the page with this input and runs it."""
    headers = getattr(request, "headers", None) or {}
    base = (headers.get("referer") or "").split("?")[0]
    query = {"text": text, "beam": int(beam), "n": int(n_best), "lp": alpha, "dir": direction}
    return f"{base}?{urlencode(query)}"


def from_query(service: TranslationService, request) -> Prefill:
    """The inputs of ``?text=…&beam=…&n=…&lp=…&dir=…`` (out-of-range values clamped)."""
    params = dict(request.query_params) if request else {}

    def number(key, default, low, high):
        try:
            value = float(params.get(key, default))
        except ValueError:
            return default
        return min(max(value, low), high) if math.isfinite(value) else default

    direction = params.get("dir", "")
    direction = direction if direction in service.translators else next(iter(service.translators))
    return Prefill(
        text=params.get("text", ""),
        direction=direction,
        beam=int(number("beam", 5, 1, MAX_BEAM)),
        n_best=int(number("n", 3, 1, MAX_BEAM)),
        alpha=number("lp", service.default_alpha(direction), 0.0, 2.0),
    )
