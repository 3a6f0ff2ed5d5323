"""What a translation is: candidates with scores and attention, and the rules that join
the translations of a text's sentences and re-rank candidates under another penalty.

Plain dataclasses, no model: re-ranking needs no decoding (each hypothesis keeps its
log-probability and length).

Not for: producing translations (see :mod:`seq2seq.translator`), drawing them (see
:mod:`webapp.views`) or splitting a text into sentences (see :mod:`seq2seq.sentences`;
``split_sentences`` is re-exported here).
"""

from __future__ import annotations

import dataclasses
import heapq
import re
from dataclasses import dataclass, field

import numpy as np

from seq2seq.beam_tree import BeamTree
from seq2seq.penalties import gnmt_penalty
from seq2seq.sentences import split_sentences  # noqa: F401  (the splitter, re-exported)
from seq2seq.tokenizer import CJK_PUNCTUATION

# What a model without attention (``ModelConfig.attention == "none"``) lacks, in plain words.
NO_ATTENTION = (
    "This model has no attention: it reads the whole sentence into one fixed vector (the "
    "encoder's final states) and translates from that alone, so it has no attention weights, "
    "heat map or alignments."
)
_FULL_WIDTH_END = re.compile(f"[{CJK_PUNCTUATION}]$")  # a sentence ending so needs no space


@dataclass
class Hypothesis:
    """One candidate translation.

    Attributes:
        ids: output token ids, EOS included when the hypothesis ended.
        text: detokenized output.
        pieces: subword piece of each id.
        log_prob: total log-probability.
        score: ``log_prob / gnmt_penalty(len(ids), alpha)`` (for a joined multi-sentence
            candidate: the sum of its sentences' scores).
        token_log_probs: one per id.
        attention: ``(len(ids), len(source_pieces))``, each row this hypothesis' own step.
        finished: False if it hit the maximum length without EOS.
    """

    ids: list[int]
    text: str
    pieces: list[str]
    log_prob: float
    score: float
    token_log_probs: list[float]
    attention: np.ndarray
    finished: bool = True
    sentence_ranks: list[int] | None = None  # a joined text's: which candidate of each sentence

    @property
    def length(self) -> int:
        return len(self.ids)

    def to_dict(self, attention: bool = True) -> dict:
        """JSON-able view (attention as nested lists, rounded to 5 decimals)."""
        out = {
            "text": self.text,
            "ids": self.ids,
            "pieces": self.pieces,
            "log_prob": round(self.log_prob, 5),
            "score": round(self.score, 5),
            "length": self.length,
            "finished": self.finished,
            "token_log_probs": [round(x, 5) for x in self.token_log_probs],
        }
        if self.sentence_ranks is not None:
            out["sentence_ranks"] = self.sentence_ranks
        if attention:
            out["attention"] = np.round(self.attention, 5).tolist()
        return out

    def rescored(self, alpha: float) -> Hypothesis:
        return dataclasses.replace(self, score=self.log_prob / gnmt_penalty(self.length, alpha))

    @classmethod
    def join(cls, parts: list[Hypothesis], ranks: list[int] | None = None) -> Hypothesis:
        """Consecutive sentences' hypotheses as one: texts joined by a space (none after
        full-width punctuation, as Chinese is written: "来了！我们…"), attention
        block-diagonal (each sentence attends only to its own source), scores summed;
        ``ranks``: which candidate (1-based) of each sentence each part is."""
        text = ""
        for h in parts:
            text += ("" if not text or _FULL_WIDTH_END.search(text) else " ") + h.text
        return cls(
            ids=[i for h in parts for i in h.ids],
            text=text,
            pieces=[x for h in parts for x in h.pieces],
            log_prob=sum(h.log_prob for h in parts),
            score=sum(h.score for h in parts),
            token_log_probs=[x for h in parts for x in h.token_log_probs],
            attention=_block_diagonal([h.attention for h in parts]),
            finished=all(h.finished for h in parts),
            sentence_ranks=ranks,
        )


@dataclass
class Translation:
    """All candidates of one source text, best first.

    A text translated sentence by sentence has ``parts`` (one Translation per sentence)
    and a single joined candidate: the best of each part (see :meth:`join`). A text that
    could not be translated has no candidates and an ``error`` saying why. A sentence
    translated with ``tree=True`` has the ``tree`` of its beam search (see
    :meth:`sentences`). A model without attention (``attention: none``) gives
    ``attends=False``: its hypotheses' attention rows are all zero and mean nothing.
    """

    source: str
    source_ids: list[int]
    source_pieces: list[str]
    hypotheses: list[Hypothesis]
    length_penalty: float = 0.0
    parts: list[Translation] = field(default_factory=list)
    error: str = ""
    tree: BeamTree | None = None
    attends: bool = True

    @property
    def best(self) -> str:
        return self.hypotheses[0].text if self.hypotheses else ""

    @property
    def sentences(self) -> list[Translation]:
        """The sentences translated: the parts of a joined text, else this one."""
        return self.parts or [self]

    def to_dict(self, attention: bool = True) -> dict:
        out = {
            "source": self.source,
            "source_pieces": self.source_pieces,
            "length_penalty": self.length_penalty,
            "attends": self.attends,
            "hypotheses": [
                {"rank": r, **h.to_dict(attention and self.attends)}
                for r, h in enumerate(self.hypotheses, 1)
            ],
        }
        return {**out, "error": self.error} if self.error else out

    @classmethod
    def join(cls, source: str, parts: list[Translation], alpha: float) -> Translation:
        """One text from its sentences' translations. Its candidates are the best
        combinations of the sentences' candidates, as many as the sentences have at most
        (the n best), ranked as each sentence ranks its own (finished first, then the sum
        of the scores); each says which candidate of each sentence it joins
        (``sentence_ranks``). A part without candidates (an empty sentence) contributes
        nothing."""
        if len(parts) == 1:
            return parts[0]
        lists = [p.hypotheses for p in parts if p.hypotheses]
        return cls(
            source,
            [i for p in parts for i in p.source_ids],
            [x for p in parts for x in p.source_pieces],
            _best_combinations(lists) if lists else [],
            alpha,
            parts=parts,
            attends=all(p.attends for p in parts),
        )

    def rerank(self, alpha: float) -> Translation:
        """The same candidates scored and sorted under length penalty ``alpha``
        (finished ones first); a joined text re-ranks each sentence and joins again, so
        its score stays the sum of its sentences' scores, as when it was translated."""
        if self.parts:
            return Translation.join(self.source, [p.rerank(alpha) for p in self.parts], alpha)
        hyps = sorted(
            (h.rescored(alpha) for h in self.hypotheses),
            key=lambda h: (h.finished, h.score),
            reverse=True,
        )
        return dataclasses.replace(self, hypotheses=hyps, length_penalty=alpha)


def _best_combinations(lists: list[list[Hypothesis]]) -> list[Hypothesis]:
    """The ``max(len(x) for x in lists)`` best joins of one hypothesis from each list
    (each sorted best first), best first: a heap over rank vectors, each popped vector
    followed by the vectors one rank worse in one sentence."""

    def push(ranks):
        """Queue a rank vector, keyed so the best (all finished, highest sum) pops first."""
        chosen = [x[r] for x, r in zip(lists, ranks)]
        key = (not all(h.finished for h in chosen), -sum(h.score for h in chosen))
        heapq.heappush(heap, (key, ranks, chosen))
        seen.add(ranks)

    heap, seen, out, wanted = [], set(), [], max(len(x) for x in lists)
    push((0,) * len(lists))
    while heap and len(out) < wanted:
        _, ranks, chosen = heapq.heappop(heap)
        out.append(Hypothesis.join(chosen, [r + 1 for r in ranks]))
        for i in range(len(ranks)):
            nxt = ranks[:i] + (ranks[i] + 1,) + ranks[i + 1 :]
            if nxt[i] < len(lists[i]) and nxt not in seen:
                push(nxt)
    return out


def _block_diagonal(blocks: list[np.ndarray]) -> np.ndarray:
    rows, cols = sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)
    out = np.zeros((rows, cols), dtype="float32")
    r = c = 0
    for b in blocks:
        out[r : r + b.shape[0], c : c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out
