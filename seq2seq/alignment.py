"""Word alignments from subword attention.

SentencePiece marks the first piece of each whitespace word with ``▁``; the pieces of a
word are merged by summing their attention (source side: the columns; target side: the
rows, averaged). Each output word is then aligned to the source word it attends to most
(Pharaoh format ``i-j``: source word i, target word j, both 0-based).

Not for: drawing attention (see :mod:`seq2seq.views`), which shows the subword pieces
themselves.
"""

from __future__ import annotations

import numpy as np

WORD_START = "▁"


def word_index(pieces: list[str]) -> list[int | None]:
    """Word number of each piece; ``None`` for special pieces such as ``</s>``."""
    index, current = [], -1
    for piece in pieces:
        if piece in ("</s>", "<s>", "<pad>"):
            index.append(None)
            continue
        if piece.startswith(WORD_START) or current < 0:
            current += 1
        index.append(current)
    return index


def word_attention(attention: np.ndarray, src_pieces: list[str], tgt_pieces: list[str]):
    """Merge a ``(tgt_pieces, src_pieces)`` attention matrix into ``(tgt_words, src_words)``
    (source columns summed, target rows averaged; special pieces dropped)."""
    src_words, tgt_words = word_index(src_pieces), word_index(tgt_pieces)
    n_src = max((w for w in src_words if w is not None), default=-1) + 1
    n_tgt = max((w for w in tgt_words if w is not None), default=-1) + 1
    merged = np.zeros((n_tgt, n_src), dtype="float64")
    counts = np.zeros((n_tgt, 1))
    for t, tw in enumerate(tgt_words[: attention.shape[0]]):
        if tw is None:
            continue
        counts[tw] += 1
        for s, sw in enumerate(src_words[: attention.shape[1]]):
            if sw is not None:
                merged[tw, sw] += attention[t, s]
    return merged / np.maximum(counts, 1)


def pharaoh(attention: np.ndarray, src_pieces: list[str], tgt_pieces: list[str]) -> str:
    """Hard alignments ``"i-j ..."`` (source word i ↔ target word j) from attention argmax."""
    merged = word_attention(attention, src_pieces, tgt_pieces)
    if merged.size == 0:
        return ""
    return " ".join(f"{int(np.argmax(row))}-{j}" for j, row in enumerate(merged))
