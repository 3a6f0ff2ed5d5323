"""Coverage and confidence of one candidate: source words its output may have left
untranslated, and output pieces the model was unsure of, said in plain words.

The coverage of a source word is the total attention it received over the output: the
sum, over the output pieces (``</s>`` left out), of the attention on the word's pieces.
Every output piece spends one unit of attention, so coverages add up to at most the
output's length. A word is flagged as possibly untranslated when its coverage is below
:data:`MIN_COVERAGE_RATIO` times the median coverage of the sentence's words (words with a
letter or digit only: punctuation is never flagged, nor counted in the median). An output
piece is flagged as unsure when the model gave it a probability below
:data:`MIN_PIECE_PROBABILITY`.

Both thresholds were calibrated on the en-de dev split with ``models/en-de`` by
``python -m benchmarks.calibrate_coverage`` (see its docstring for how and the figures).

Not for: drawing (see :mod:`webapp.views`) or merging attention (see
:mod:`seq2seq.alignment`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seq2seq.alignment import SPECIAL, word_index, words

MIN_COVERAGE_RATIO = 0.15  # a source word below 0.15 x the median coverage: maybe untranslated
MIN_PIECE_PROBABILITY = 0.2  # an output piece below 20 % probability: unsure


def coverage(attention, src_pieces: list[str], tgt_pieces: list[str]) -> np.ndarray:
    """``(src_words,)`` total attention each source word received: ``attention`` is
    ``(tgt_pieces, src_pieces)``; special pieces count on neither side."""
    attention = np.asarray(attention, dtype="float64")
    rows = [t for t, p in enumerate(tgt_pieces[: attention.shape[0]]) if p not in SPECIAL]
    received = attention[rows].sum(axis=0)  # (src_pieces,)
    total = np.zeros(len(words(src_pieces)))
    for s, word in enumerate(word_index(src_pieces)[: attention.shape[1]]):
        if word is not None:
            total[word] += received[s]
    return total


@dataclass
class Report:
    """What may be wrong with one candidate.

    Attributes:
        source_words: the source sentence's words.
        coverage: ``(src_words,)`` attention each received (see :func:`coverage`).
        median: the median coverage of the source words with a letter or digit.
        ratios: ``(src_words,)`` coverage over ``median``; NaN for punctuation.
        missing: indexes of source words flagged as possibly untranslated.
        unsure: ``(output word, piece, probability)`` of each piece flagged as unsure, in
            order (the piece without its word-start mark; ``"␣"`` if nothing is left).
    """

    source_words: list[str]
    coverage: np.ndarray
    median: float
    ratios: np.ndarray
    missing: list[int]
    unsure: list[tuple[str, str, float]]

    @classmethod
    def of(
        cls,
        hypothesis,
        source_pieces: list[str],
        min_ratio: float = MIN_COVERAGE_RATIO,
        min_probability: float = MIN_PIECE_PROBABILITY,
    ) -> Report:
        """The report of a :class:`~seq2seq.translation.Hypothesis` of a sentence whose
        source pieces are ``source_pieces``."""
        src_words = words(source_pieces)
        totals = coverage(hypothesis.attention, source_pieces, hypothesis.pieces)
        wordlike = np.array([any(ch.isalnum() for ch in w) for w in src_words], dtype=bool)
        median = float(np.median(totals[wordlike])) if wordlike.any() else 0.0
        ratios = np.where(wordlike, totals / max(median, 1e-9), np.nan)
        missing = [int(i) for i in np.flatnonzero(wordlike & (ratios < min_ratio))]
        output_words = words(hypothesis.pieces)
        unsure = [
            (output_words[word], piece.replace("▁", "") or "␣", float(np.exp(lp)))
            for piece, word, lp in zip(
                hypothesis.pieces, word_index(hypothesis.pieces), hypothesis.token_log_probs
            )
            if word is not None and np.exp(lp) < min_probability
        ]
        return cls(src_words, totals, median, ratios, missing, unsure)

    def messages(self) -> list[str]:
        """The findings in plain words, one sentence each (none: nothing to report)."""
        out = [
            f"The translation of '{self.source_words[i]}' may be missing: this source word "
            f"received little attention ({self.coverage[i]:.2f}, where a typical word of "
            f"this sentence received {self.median:.2f})."
            for i in self.missing
        ]
        for word, piece, probability in self.unsure:
            what = "this output word" if piece == word else f"its piece '{piece}'"
            out.append(
                f"'{word}' is unsure: the model gave {what} a probability of {probability:.0%}."
            )
        return out
