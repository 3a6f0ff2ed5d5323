"""Alignments from subword attention, between pieces or between words.

SentencePiece marks the first piece of each whitespace word with ``▁``. At word level the
pieces of a word are merged: its source columns summed (the attention the word received),
its target rows averaged (where the word looked, on average). Special pieces (``</s>``)
are no unit at either level. Each output unit is aligned to the source unit it attends to
most (Pharaoh format ``i-j``: source unit i, output unit j, both 0-based indexes of
pieces, or of words at word level).

Not for: drawing attention (see :mod:`seq2seq.views`).
"""

from __future__ import annotations

import numpy as np

WORD_START = "▁"
SPECIAL = ("</s>", "<s>", "<pad>")


def word_index(pieces: list[str]) -> list[int | None]:
    """Word number of each piece; ``None`` for special pieces such as ``</s>``."""
    index, current = [], -1
    for piece in pieces:
        if piece in SPECIAL:
            index.append(None)
            continue
        if piece.startswith(WORD_START) or current < 0:
            current += 1
        index.append(current)
    return index


def unit_index(pieces: list[str], word_level: bool) -> list[int | None]:
    """The unit of each piece: its word (``word_level``) or itself; ``None`` if special."""
    if word_level:
        return word_index(pieces)
    return [None if p in SPECIAL else i for i, p in enumerate(pieces)]


def words(pieces: list[str]) -> list[str]:
    """The text of each word of ``pieces`` (special pieces left out), e.g.
    ``["▁Hel", "lo", "▁world", "</s>"]`` → ``["Hello", "world"]``."""
    out: list[str] = []
    for piece, word in zip(pieces, word_index(pieces)):
        if word is None:
            continue
        if word == len(out):
            out.append("")
        out[word] += piece.replace(WORD_START, "")
    return out


def merge_attention(attention: np.ndarray, src_pieces: list[str], tgt_pieces: list[str],
                    word_level: bool = True) -> np.ndarray:  # fmt: skip
    """A ``(tgt_pieces, src_pieces)`` attention matrix as ``(tgt_units, src_units)``:
    source columns of a unit summed, target rows averaged, special pieces dropped (units
    are words, or the pieces themselves without ``word_level``)."""
    attention = np.asarray(attention, dtype="float64")
    src_units, tgt_units = unit_index(src_pieces, word_level), unit_index(tgt_pieces, word_level)
    n_src = max((u for u in src_units if u is not None), default=-1) + 1
    n_tgt = max((u for u in tgt_units if u is not None), default=-1) + 1
    columns = np.zeros((attention.shape[1], n_src))  # piece -> unit, summing
    for s, unit in enumerate(src_units[: attention.shape[1]]):
        if unit is not None:
            columns[s, unit] = 1.0
    rows = np.zeros((n_tgt, attention.shape[0]))  # unit <- pieces, averaging
    for t, unit in enumerate(tgt_units[: attention.shape[0]]):
        if unit is not None:
            rows[unit, t] = 1.0
    rows /= np.maximum(rows.sum(axis=1, keepdims=True), 1.0)
    return rows @ attention @ columns


def pharaoh(attention: np.ndarray, src_pieces: list[str], tgt_pieces: list[str],
            word_level: bool = False) -> str:  # fmt: skip
    """Hard alignments ``"i-j ..."`` (source unit i ↔ output unit j) from attention
    argmax; units are pieces, or words with ``word_level``."""
    merged = merge_attention(attention, src_pieces, tgt_pieces, word_level)
    if merged.size == 0:
        return ""
    return " ".join(f"{int(np.argmax(row))}-{j}" for j, row in enumerate(merged))
