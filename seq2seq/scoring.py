"""A translation the visitor gives, scored by the model: how probable it finds each of its
pieces (teacher forcing through the same step as the search), which piece it would have
written itself at each position, and where the whole translation ranks among the beam's
candidates under the same length penalty.

Plain data (NumPy in, dataclasses out); :meth:`seq2seq.translator.Translator.score` runs
the model.

Not for: searching (see :mod:`seq2seq.search`), drawing (see :mod:`webapp.views`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seq2seq.penalties import gnmt_penalty
from seq2seq.translation import Hypothesis, Translation


@dataclass
class Scored:
    """A given translation as the model sees it.

    Attributes:
        hypothesis: the translation's pieces (EOS last), log-probabilities, length-
            normalised score (comparable with the beam's at ``beam.length_penalty``) and
            attention, like a candidate's.
        best_pieces, best_log_probs: the model's most probable piece at each position
            (after the given pieces before it) and its log-probability.
        token_ranks: the rank of each given piece among all pieces at its position
            (1: the model's own first choice).
        rank: where the translation ranks among the beam's candidates (1-based; the
            candidate's own rank if the beam found it), None if below all of them.
        beam: the beam search's candidates for the same source and options.
    """

    hypothesis: Hypothesis
    best_pieces: list[str]
    best_log_probs: list[float]
    token_ranks: list[int]
    rank: int | None
    beam: Translation

    def gaps(self) -> list[float]:
        """How much more probable the model's own piece was than the given one, at each
        position (0 where they agree)."""
        return [b - g for b, g in zip(self.best_log_probs, self.hypothesis.token_log_probs)]

    def to_dict(self, attention: bool = True) -> dict:
        """The API's answer (see ``/score``)."""
        h = self.hypothesis
        out = {
            "translation": h.text,
            "score": round(h.score, 5),
            "log_prob": round(h.log_prob, 5),
            "length": h.length,
            "rank": self.rank,
            "beam_scores": [round(c.score, 5) for c in self.beam.hypotheses],
            "tokens": [
                {
                    "piece": piece,
                    "log_prob": round(lp, 5),
                    "best_piece": best,
                    "best_log_prob": round(best_lp, 5),
                    "rank": rank,
                }
                for piece, lp, best, best_lp, rank in zip(
                    h.pieces,
                    h.token_log_probs,
                    self.best_pieces,
                    self.best_log_probs,
                    self.token_ranks,
                )
            ],
            "source_tokens": self.beam.source_pieces,
        }
        if attention and self.beam.attends:
            out["attention"] = np.round(h.attention, 5).tolist()
        return out


def forced_hypothesis(ids, text, pieces, log_probs, attention, alpha) -> tuple[Hypothesis, dict]:
    """The given ``ids`` (EOS last) as a :class:`Hypothesis`, and per position the model's
    own best id, its log-prob and the given id's rank.

    Args:
        log_probs: ``(len(ids), vocab)`` float, the model's at each position.
        attention: ``(len(ids), src_len)``.
    """
    ids = list(ids)
    log_probs = np.asarray(log_probs, dtype="float32")
    given = log_probs[np.arange(len(ids)), ids]
    hypothesis = Hypothesis(
        ids=ids,
        text=text,
        pieces=pieces,
        log_prob=float(given.sum()),
        score=float(given.sum()) / gnmt_penalty(len(ids), alpha),
        token_log_probs=[float(x) for x in given],
        attention=np.asarray(attention, dtype="float32"),
    )
    best = log_probs.argmax(axis=-1)
    return hypothesis, {
        "best_ids": [int(x) for x in best],
        "best_log_probs": [float(x) for x in log_probs.max(axis=-1)],
        "token_ranks": [int(x) for x in 1 + (log_probs > given[:, None]).sum(axis=-1)],
    }


def beam_rank(hypothesis: Hypothesis, beam: Translation) -> int | None:
    """Where ``hypothesis`` ranks among ``beam``'s candidates: the rank of the candidate
    with the same pieces, else the place its score would take among the finished
    candidates (ranked as the beam ranks them); None if below every candidate."""
    for rank, candidate in enumerate(beam.hypotheses, 1):
        if candidate.ids == hypothesis.ids:
            return rank
    above = [c for c in beam.hypotheses if c.finished and c.score >= hypothesis.score]
    return len(above) + 1 if len(above) < len(beam.hypotheses) else None
