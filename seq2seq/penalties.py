"""Scores shared by the search and by what re-ranks its results afterwards, with no Keras
import (the translation records, the beam tree and the CLI's helpers use them without a
model): the GNMT length penalty and the finite "minus infinity".

Not for: the searches (see :mod:`seq2seq.search`).
"""

NEG = -1e9  # "minus infinity" that keeps arithmetic finite (no inf - inf = nan)


def gnmt_penalty(length, alpha):
    """GNMT length penalty ``((5 + length) / 6) ** alpha`` (Wu et al. 2016); alpha = 0
    gives 1. Works on Python numbers, NumPy arrays and float backend tensors alike."""
    return ((5.0 + length) / 6.0) ** alpha
