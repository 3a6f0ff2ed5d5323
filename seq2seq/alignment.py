"""Alignments from subword attention, between pieces or between words.

SentencePiece marks the first piece of each whitespace word with ``▁``. Chinese has no
spaces: there a piece of Chinese characters is a word of its own (SentencePiece's pieces
of Chinese are mostly words or single characters), and so is the run of Latin pieces or
byte pieces that follows one. At word level the pieces of a word are merged: its source
columns summed (the attention the word received), its target rows averaged (where the
word looked, on average). Special pieces (``</s>``) are no unit at either level. Each
output unit is aligned to the source unit it attends to most (Pharaoh format ``i-j``:
source unit i, output unit j, both 0-based indexes of pieces, or of words at word level).

Not for: drawing attention (see :mod:`webapp.views`).
"""

from __future__ import annotations

import re

import numpy as np

from seq2seq.tokenizer import CJK

WORD_START = "▁"
SPECIAL = ("</s>", "<s>", "<pad>")
_BYTES = re.compile(r"(?:<0x[0-9A-F]{2}>)+")  # a character spelled in UTF-8 byte pieces


def _starts_word(piece: str, previous: str | None) -> bool:
    if previous is None:
        return True
    if previous == WORD_START:  # a lone "▁" (before Chinese) belongs to what follows
        return False
    if piece.startswith(WORD_START):
        return True
    # A piece of Chinese characters or marks is a word, and so is what follows one.
    return bool(CJK.match(piece[0]) or CJK.match(previous[-1]))


def word_index(pieces: list[str]) -> list[int | None]:
    """Word number of each piece; ``None`` for special pieces such as ``</s>``.

    >>> word_index(["▁Hel", "lo", "▁汤姆", "喜欢", "Ping", "值", "</s>"])
    [0, 0, 1, 2, 3, 4, None]
    """
    index, current, previous = [], -1, None
    for piece in pieces:
        if piece in SPECIAL:
            index.append(None)
            continue
        if _starts_word(piece, previous):
            current += 1
        index.append(current)
        previous = piece
    return index


def unit_index(pieces: list[str], word_level: bool) -> list[int | None]:
    """The unit of each piece: its word (``word_level``) or itself; ``None`` if special."""
    if word_level:
        return word_index(pieces)
    return [None if p in SPECIAL else i for i, p in enumerate(pieces)]


def words(pieces: list[str]) -> list[str]:
    """The text of each word of ``pieces`` (special pieces left out), e.g.
    ``["▁Hel", "lo", "▁world", "</s>"]`` → ``["Hello", "world"]``. Byte pieces (a
    character outside the vocabulary, spelled in UTF-8 bytes) show as that character."""
    out: list[str] = []
    for piece, word in zip(pieces, word_index(pieces)):
        if word is None:
            continue
        if word == len(out):
            out.append("")
        out[word] += piece.replace(WORD_START, "")
    return [_BYTES.sub(_spell_bytes, word) for word in out]


def _spell_bytes(match: re.Match) -> str:
    data = bytes(int(b, 16) for b in re.findall(r"<0x([0-9A-F]{2})>", match.group()))
    return data.decode("utf-8", errors="replace")


def merge_attention(
    attention: np.ndarray, src_pieces: list[str], tgt_pieces: list[str], word_level: bool = True
) -> np.ndarray:
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


def pharaoh(
    attention: np.ndarray, src_pieces: list[str], tgt_pieces: list[str], word_level: bool = False
) -> str:
    """Hard alignments ``"i-j ..."`` (source unit i ↔ output unit j) from attention
    argmax; units are pieces, or words with ``word_level``."""
    merged = merge_attention(attention, src_pieces, tgt_pieces, word_level)
    if merged.size == 0:
        return ""
    return " ".join(f"{int(np.argmax(row))}-{j}" for j, row in enumerate(merged))
