"""Lexical shortlist: in large batches, score only the target pieces the batch can need.

The output projection over the whole vocabulary (``rows × dec → rows × vocab`` plus a
softmax over ``vocab``) is about half of a decoder step's cost in a batch of 64 sentences
at beam 5 (320 rows). Vocabulary selection (Jean et al. 2015, "On Using Very Large Target
Vocabulary"; Marian's lexical shortlists) scores only a per-batch candidate set: the most
frequent target pieces plus, for every source piece of the batch, its most probable
translations under IBM Model 1 (a few EM iterations over the training pairs).

Only batches of at least :data:`MIN_ROWS` sentences use it: the candidates of a single
sentence miss too many of the pieces the full model would write (measured on the en-de
test split: 2–4 % of output pieces for one sentence, 0.1 % in a batch of 64, whose
candidates cover each other's gaps), and one sentence's projection is cheap anyway.

The candidate set has a fixed size per batch-rows bucket (so it adds no compiled shapes):
special pieces first, at their own ids (so ``PAD``/``BOS``/``EOS`` keep their meaning
inside the search), then the frequent pieces, then every source piece's first candidate,
every source piece's second, …, until the size is filled. The softmax is normalised over
the candidates: scores are slightly higher than with the full vocabulary, and a piece
outside the set cannot be produced.

Stored in a model folder as ``shortlist.npz``: ``frequent`` ``(n_frequent,)`` and
``candidates`` ``(vocab, per_source)`` int32 (``-1`` = no more candidates), built by
:func:`build` from the tokenized training pairs (``python -m training.shortlist``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seq2seq.tokenizer import EOS, PAD

FILENAME = "shortlist.npz"
SPECIALS = EOS + 1  # PAD, UNK, BOS, EOS: ids 0..3, always in the set at their own index
MIN_ROWS = 16  # smaller batches score the whole vocabulary


def size_for(rows: int) -> int | None:
    """The candidate-set size for a batch bucket of ``rows`` (None: no shortlist)."""
    if rows < MIN_ROWS:
        return None
    return 3072 if rows < 64 else 4096


class Shortlist:
    """Per-batch candidate target ids.

    Args:
        frequent: ``(n,)`` int, the most frequent target pieces, most frequent first.
        candidates: ``(vocab, per_source)`` int, per source piece its candidates, best
            first, ``-1`` padded.
    """

    def __init__(self, frequent: np.ndarray, candidates: np.ndarray):
        self.frequent = np.asarray(frequent, dtype=np.int32)
        self.candidates = np.asarray(candidates, dtype=np.int32)
        self.vocab_size = len(self.candidates)

    def ids(self, sequences: list[list[int]], size: int) -> np.ndarray:
        """The candidate set of a batch of source id lists: ``(size,)`` int32, ids
        ``0..SPECIALS-1`` at their own index, no id twice, padded with ``PAD`` (0) where
        fewer than ``size`` pieces qualify (the search never picks ``PAD``)."""
        if size >= self.vocab_size:
            return np.arange(self.vocab_size, dtype=np.int32)
        sources = np.unique(np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences]))
        sources = sources[(sources >= 0) & (sources < self.vocab_size)]
        by_rank = self.candidates[sources].T.reshape(-1)  # all first candidates, all second…
        order = np.concatenate([np.arange(SPECIALS), self.frequent, by_rank[by_rank >= 0]])
        _, first = np.unique(order, return_index=True)
        chosen = order[np.sort(first)][:size]
        return np.pad(chosen, (0, size - len(chosen))).astype(np.int32)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / FILENAME
        np.savez_compressed(path, frequent=self.frequent, candidates=self.candidates)
        return path

    @classmethod
    def load(cls, folder: str | Path) -> Shortlist | None:
        """The folder's shortlist, or None where it has none."""
        path = Path(folder) / FILENAME
        if not path.is_file():
            return None
        with np.load(path) as data:
            return cls(data["frequent"], data["candidates"])


def build(
    sources: list[list[int]],
    targets: list[list[int]],
    vocab_size: int,
    per_source: int = 80,
    n_frequent: int = 1000,
    iterations: int = 5,
) -> Shortlist:
    """IBM Model 1 translation probabilities ``p(t | s)`` over the pairs (each sentence's
    distinct pieces, plus a NULL source that takes what nothing translates), by EM from
    uniform; per source piece the ``per_source`` most probable target pieces.

    Args:
        sources, targets: id lists of the pairs (no specials needed).
        vocab_size: the shared vocabulary's size.
    """
    keys, sentence, tgt_count = [], [], np.zeros(vocab_size)
    for k, (src, tgt) in enumerate(zip(sources, targets)):
        s, t = np.append(np.unique(src), PAD), np.unique(tgt)  # PAD stands for NULL
        tgt_count[t] += 1
        keys.append((s[:, None] * vocab_size + t[None, :]).reshape(-1))
        sentence.append(np.full(len(s) * len(t), k))
    keys, sentence = np.concatenate(keys), np.concatenate(sentence)
    pairs, pair_of = np.unique(keys, return_inverse=True)  # each (s, t) once, and per entry
    _, target_of = np.unique(sentence * vocab_size + keys % vocab_size, return_inverse=True)
    src_of_pair = pairs // vocab_size
    prob = np.ones(len(pairs))
    for _ in range(iterations):
        share = prob[pair_of]
        share /= np.bincount(target_of, weights=share)[target_of]  # over the sentence's s
        count = np.bincount(pair_of, weights=share, minlength=len(pairs))
        prob = count / np.bincount(src_of_pair, weights=count, minlength=vocab_size)[src_of_pair]
    s, t = src_of_pair, pairs % vocab_size
    keep = (t >= SPECIALS) & (s != PAD)
    s, t, prob = s[keep], t[keep], prob[keep]
    order = np.lexsort((-prob, s))  # by source, most probable first
    s, t = s[order], t[order]
    rank = np.arange(len(s)) - np.searchsorted(s, s)  # position within its source's run
    candidates = np.full((vocab_size, per_source), -1, dtype=np.int32)
    top = rank < per_source
    candidates[s[top], rank[top]] = t[top]
    frequent = np.argsort(-tgt_count, kind="stable")
    frequent = frequent[frequent >= SPECIALS][:n_frequent]
    return Shortlist(frequent, candidates)
