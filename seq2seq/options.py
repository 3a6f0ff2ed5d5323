"""Decoding options: one validated object with the defaults and caps of every search.

The app, the CLI, evaluation and the :class:`seq2seq.translator.Translator` build one
:class:`DecodeOptions`; its constructor is the single place where decode parameters are
checked (types, ranges, finite numbers), so every caller refuses the same inputs with the
same message.

Not for: model architecture (see :mod:`seq2seq.config`) or the searches themselves
(see :mod:`seq2seq.search`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

MAX_BEAM = 10  # largest beam size, number of candidates and number of samples
# How a loaded model computes: a Keras dtype policy. Variables (and so saved weights) are
# float32 under both; "mixed_bfloat16" computes in bfloat16 (softmaxes and scores float32).
PRECISIONS = ("float32", "mixed_bfloat16")
DEFAULT_LENGTH_PENALTY = 0.6  # GNMT alpha (Wu et al. 2016)
MAX_LENGTH_PENALTY = 5.0
MAX_TEMPERATURE = 100.0
MODEL_DEFAULTS = ("length_penalty",)  # what a model folder may set for itself (metadata)
# The library's caps on one call's input (Translator's defaults; the CLI can raise them).
MAX_INPUT_CHARS = 20_000  # characters per text
MAX_SENTENCE_TOKENS = 200  # subword tokens per sentence (the widest compiled graph)


def whole_number(name: str, value, low: int, high: int) -> int:
    """``value`` as an int in ``[low, high]``; bools, fractions and text are refused."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and math.isfinite(value) and value == int(value):
            value = int(value)  # 5.0 from a JSON number or a slider is fine
        else:
            raise ValueError(f"{name} must be a whole number, got {value!r}")
    value = int(value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def real_number(name: str, value, low: float, high: float) -> float:
    """``value`` as a finite float in ``[low, high]``; text and NaN/inf are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number between {low:g} and {high:g}, got {value!r}")
    return value


@dataclass(frozen=True)
class DecodeOptions:
    """How to decode; validated on construction (a ``ValueError`` names the bad field).

    Args:
        beam_size: 1 = greedy search; k > 1 = beam search keeping k hypotheses.
        n_best: candidates returned per sentence (≤ ``beam_size``; with sampling, the
            number of samples, ≤ ``MAX_BEAM``).
        length_penalty: GNMT alpha: a hypothesis of ``n`` tokens scores
            ``log_prob / ((5 + n) / 6) ** alpha`` (0 = raw log-probability).
        temperature: 0 = search; > 0 = draw ``n_best`` samples from
            ``softmax(log_probs / temperature)``.
        top_k: with sampling, draw only among the ``top_k`` most probable tokens (0 = all).
        seed: with sampling, the random seed (same seed, same samples).

    Example:
        >>> DecodeOptions(beam_size=5, n_best=3).n_best
        3
        >>> DecodeOptions(beam_size=11)
        Traceback (most recent call last):
        ValueError: beam_size must be between 1 and 10, got 11
    """

    beam_size: int = 5
    n_best: int = 1
    length_penalty: float = DEFAULT_LENGTH_PENALTY
    temperature: float = 0.0
    top_k: int = 0
    seed: int = 0

    def __post_init__(self):
        fix = object.__setattr__  # frozen: normalise the validated values in place
        fix(self, "beam_size", whole_number("beam_size", self.beam_size, 1, MAX_BEAM))
        fix(self, "temperature", real_number("temperature", self.temperature, 0.0, MAX_TEMPERATURE))
        limit = MAX_BEAM if self.sampling else self.beam_size
        fix(self, "n_best", whole_number("n_best", self.n_best, 1, limit))
        fix(
            self,
            "length_penalty",
            real_number("length_penalty", self.length_penalty, 0.0, MAX_LENGTH_PENALTY),
        )
        fix(self, "top_k", whole_number("top_k", self.top_k, 0, 1_000_000))
        fix(self, "seed", whole_number("seed", self.seed, 0, 2**31 - 1))

    @property
    def sampling(self) -> bool:
        """True when this draws samples instead of searching."""
        return self.temperature > 0

    @property
    def greedy(self) -> bool:
        return not self.sampling and self.beam_size == 1

    def replace(self, **changes) -> DecodeOptions:
        """A validated copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def with_length_penalty(self, alpha: float | None) -> DecodeOptions:
        """A validated copy with length penalty ``alpha``; None keeps this one's (a
        model's own, from :meth:`for_model`)."""
        return self if alpha is None else self.replace(length_penalty=alpha)

    @classmethod
    def for_model(cls, metadata: dict) -> DecodeOptions:
        """A model folder's own defaults: ``metadata.json``'s ``decoding`` part, e.g.
        ``{"length_penalty": 1.0, "chosen_on": "…"}`` (the length penalty chosen on the
        dev split; ``chosen_on`` says how), else the library's defaults.

        Example:
            >>> DecodeOptions.for_model({"decoding": {"length_penalty": 1.0}}).length_penalty
            1.0
            >>> DecodeOptions.for_model({}).length_penalty
            0.6
        """
        decoding = metadata.get("decoding") or {}
        if not isinstance(decoding, dict):
            raise ValueError(f"metadata's decoding must be an object, got {decoding!r}")
        unknown = sorted(set(decoding) - set(MODEL_DEFAULTS) - {"chosen_on"})
        if unknown:
            raise ValueError(
                f"metadata's decoding has unknown fields {unknown}; "
                f"known: {list(MODEL_DEFAULTS)} and chosen_on"
            )
        return cls(**{k: v for k, v in decoding.items() if k in MODEL_DEFAULTS})
