"""What "everyday" means for the held-out everyday slices (``dev-everyday``/``test-everyday``)
and how they are drawn from a pair's supplementary sources (see
:func:`training.corpus.build_extra`).

A sentence is everyday when its English has at most :data:`MAX_WORDS` words, every word is
one of the 5,000 most frequent English words (``training/data/english-5000.txt``:
``wordfreq.top_n_list("en", 5000)`` of wordfreq 3.1.1, written once; contractions such as
"don't" are in it, other ``'``-words count when each part is) and no word other than the
first of a sentence and "I" is capitalised (no proper names).

Not for: the hand-written everyday sets (``training/data/PAIR/everyday.tsv``) or the
supplementary sources' readers (:mod:`training.supplements`).
"""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path

MAX_WORDS = 12
COMMON_WORDS_FILE = Path(__file__).parent / "data" / "english-5000.txt"

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)[\"'“‘(]*$")


@cache
def common_words() -> frozenset[str]:
    """The 5,000 most frequent English words, lower case."""
    return frozenset(COMMON_WORDS_FILE.read_text(encoding="utf-8").split())


def _common(word: str, words: frozenset[str]) -> bool:
    word = word.lower()
    return word in words or ("'" in word and all(p in words for p in word.split("'")))


def is_everyday(english: str, words: frozenset[str] | None = None) -> bool:
    """True when ``english`` passes the rule of this module's docstring. ``words``: the
    common words (default :func:`common_words`)."""
    words = common_words() if words is None else words
    english = english.replace("’", "'")
    found = list(_WORD.finditer(english))
    if not found or len(english.split()) > MAX_WORDS:
        return False
    for m in found:
        word = m.group()
        if not _common(word, words):
            return False
        capital = word[0].isupper() and word not in ("I",) and not word.startswith("I'")
        if capital and not _SENTENCE_START.search(english[: m.start()]):
            return False
    return True


def draw(rows: list, size: int, seed: int = 1) -> tuple[list, list]:
    """Two disjoint random samples (dev, test) of ``size`` rows each from ``rows`` (the
    caller passes only everyday, held-out-free rows, one per English sentence); fewer when
    ``rows`` has fewer than ``2 * size``, split half and half. Deterministic for ``seed``;
    each sample keeps the rows' order."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    size = min(size, len(rows) // 2)
    dev, test = sorted(order[:size]), sorted(order[size : 2 * size])
    return [rows[i] for i in dev], [rows[i] for i in test]
