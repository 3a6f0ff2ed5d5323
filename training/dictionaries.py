"""Readers of the dictionaries the corpora take text from: Ding (German-English; its example
sentences, and its entries as word/phrase pairs), CC-CEDICT (Chinese-English; the
entries of the HSK word lists) and FreeDict's English-French dictionary (dictd format).

Each reader yields raw ``(english, foreign)`` pairs of one file;
:func:`training.sources.extract` calls them for the sources ``ding``, ``dict``, ``cedict``
and ``freedict``.

Not for: which packages hold the files (see :mod:`training.sources`) or cleaning (see
:mod:`training.clean`).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

DICT_MAX_PAIRS = 40_000  # Ding's entries as word/phrase pairs, everyday words first
CEDICT_MAX_PAIRS = 20_000  # CC-CEDICT's pairs of HSK words, HSK levels in order


# --- Ding -------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.?!][\"“”’']?$")


def ding_examples(path: Path) -> Iterator[tuple[str, str]]:
    """Ding lines are ``German | German … :: English | English …``; the ``|`` parts are
    parallel sub-entries, ``;`` separates alternatives (we keep the first). Only
    sub-entries that are sentences on both sides (end in ``.?!``) are example sentences.
    """
    for de, en in _ding_entries(path):
        de, en = de.split("; ")[0].strip(), en.split("; ")[0].strip()
        if _SENTENCE_END.search(de) and _SENTENCE_END.search(en):
            yield en, de


def _ding_entries(path: Path) -> Iterator[tuple[str, str]]:
    """The parallel ``(german, english)`` sub-entries of every Ding line, in file order."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or " :: " not in line:
                continue
            german, english = line.rstrip("\n").split(" :: ", 1)
            de_parts, en_parts = german.split(" | "), english.split(" | ")
            if len(de_parts) == len(en_parts):
                yield from zip(de_parts, en_parts)


# Ding entries as word/phrase pairs: annotations dropped, ``;`` alternatives, ``|`` forms.
_DING_NOTES = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|<[^>]*>|/[^/ ]+/")
_DING_PLACEHOLDER = re.compile(
    r"\b(?:sb|sth|sb's|jd|jds|jdn|jdm|etw)\b\.?|\bsb\.|\bsth\.|…|\.\.\.|/"
)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _ding_words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _ding_note_free(text: str) -> str:
    return " ".join(_DING_NOTES.sub(" ", text).split())


def ding_dictionary(path: Path) -> Iterator[tuple[str, str]]:
    """Dictionary entries as short pairs, capped at :data:`DICT_MAX_PAIRS`.

    Each ``|`` sub-entry gives its first German alternative with each of its first
    three English alternatives (``train station`` is Bahnhof's third), after dropping
    ``{f}``, ``[Br.]``, ``(…)`` and ``/abbr./`` notes. Kept: 1–4 English words, no
    ``sb./sth./jdn./etw.`` slots, no sentences (those are the ``ding`` source).

    Words have many senses ('table': Tabelle, Tafel, Tisch), so Ding's example sentences
    pick them: each English phrase keeps the German one whose words co-occur with its
    words in the most example pairs (then the most frequent), and a second one only if
    that co-occurs at least a quarter as often; phrases are ranked by how common their
    rarest word is in the examples, so everyday words come first.
    """
    en_index: dict[str, set[int]] = {}
    de_index: dict[str, set[int]] = {}
    for i, (en, de) in enumerate(ding_examples(path)):
        for w in _ding_words(en):
            en_index.setdefault(w, set()).add(i)
        for w in _ding_words(de):
            de_index.setdefault(w, set()).add(i)

    def rarest(words: list[str], index: dict[str, set[int]]) -> set[int]:
        return min((index.get(w, set()) for w in words), key=len, default=set())

    candidates: dict[str, dict[str, int]] = {}  # en → {de: first line order}
    order = 0
    for de_part, en_part in _ding_entries(path):
        de = _ding_note_free(de_part).split("; ")[0].strip(" ;,")
        if not de or _DING_PLACEHOLDER.search(de) or _SENTENCE_END.search(de):
            continue
        for en in _ding_note_free(en_part).split("; ")[:3]:
            en = en.strip(" ;,")
            if (
                not 1 <= len(en.split()) <= 4
                or _DING_PLACEHOLDER.search(en)
                or _SENTENCE_END.search(en)
            ):
                continue
            order += 1
            candidates.setdefault(en, {}).setdefault(de, order)
    ranked = []
    for en, options in candidates.items():
        words = _ding_words(en)
        if not words:
            continue
        en_docs = rarest(words, en_index)
        scored = []
        for de, first in options.items():
            de_docs = rarest(_ding_words(de), de_index)
            scored.append((-len(en_docs & de_docs), -len(de_docs), first, de))
        scored.sort()
        keep = scored[:1] + [s for s in scored[1:2] if s[0] < 0 and 4 * s[0] <= scored[0][0]]
        for rank, (*_, first, de) in enumerate(keep):
            ranked.append((-len(en_docs), rank, len(words), first, en, de))
    ranked.sort()
    for *_, en, de in ranked[:DICT_MAX_PAIRS]:
        yield en, de


# --- CC-CEDICT (Chinese-English dictionary) ------------------------------------------

_CEDICT_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/$")
_CEDICT_SKIP = re.compile(
    r"^(?:variant of|old variant|see |CL:|classifier|surname|abbr\.|erhua|also written|used in|"
    r"old name|\(Tw\)|\(bound form\)|\(dialect\)|\(slang\)|\(old\))",
    re.I,
)


def hsk_rank(paths: list[Path]) -> dict[str, int]:
    """Word → its position in the HSK lists (files in order, levels in order inside each;
    ``//`` lines are level headers; a word's first position wins)."""
    rank: dict[str, int] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            word = line.split("\t")[0].strip()
            if word and not word.startswith("//"):
                rank.setdefault(word, len(rank))
    return rank


def cedict_entries(path: Path, hsk: list[Path]) -> Iterator[tuple[str, str]]:
    """CC-CEDICT entries of HSK words as ``(english, simplified)`` pairs, everyday first.

    A line is ``traditional simplified [pinyin] /gloss/gloss/``; of an HSK word's first
    four glosses that are no cross-reference, classifier or usage note, those of 1-4
    English words are kept, their ``(…)`` notes and a leading article dropped. An English
    gloss keeps at most two Chinese words, the most basic (lowest HSK position) first; at
    most :data:`CEDICT_MAX_PAIRS` pairs, in HSK order.
    """
    rank = hsk_rank(hsk)
    by_english: dict[str, list[tuple[int, str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _CEDICT_LINE.match(line)
        if not m or m.group(2) not in rank:
            continue
        glosses = [g for g in m.group(3).split("/") if g and not _CEDICT_SKIP.match(g)]
        for gloss in glosses[:4]:
            en = re.sub(r"^(?:an?|the) ", "", " ".join(_DING_NOTES.sub(" ", gloss).split()))
            en = en.strip(" ;,")
            if 1 <= len(en.split()) <= 4 and "sth" not in en and "sb" not in en.split():
                by_english.setdefault(en, []).append((rank[m.group(2)], m.group(2)))
    pairs = sorted(
        (r, en, zh) for en, words in by_english.items() for r, zh in sorted(set(words))[:2]
    )
    for _, en, zh in pairs[:CEDICT_MAX_PAIRS]:
        yield en, zh


# --- FreeDict (dictd format) -----------------------------------------------------------

_SENSE_NUMBER = re.compile(r"^\d+\.\s+")


def freedict_entries(index: Path, data: Path) -> Iterator[tuple[str, str]]:
    """The entries of a dictd dictionary (``.index`` lines ``headword<TAB>offset<TAB>length``,
    both base64 numbers into the gzip-compressed ``.dict.dz``), in index order, skipping the
    ``00database…`` info entries. An entry is ``headword /pronunciation/`` then one line per
    sense (``1. a, b``, or an unnumbered line when there is one sense); each sense gives the
    headword with its first translation (``toilet``: ``cabinet``, ``toilette``). Entries
    with a ``...`` slot ("... ago") are skipped."""
    text = gzip.decompress(data.read_bytes())
    for line in index.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or fields[0].startswith("00database"):
            continue
        offset, length = (_base64_number(f) for f in fields[1:])
        lines = text[offset : offset + length].decode("utf-8").strip().splitlines()
        if len(lines) < 2:
            continue
        headword = lines[0].split(" /", 1)[0].strip()
        for sense in lines[1:]:
            first = _SENSE_NUMBER.sub("", sense.strip()).split(",")[0].strip()
            if headword and first and "..." not in headword + first:  # "... ago": a slot
                yield headword, first


_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _base64_number(text: str) -> int:
    """dictd's numbers: base 64, most significant digit first."""
    value = 0
    for char in text:
        value = value * 64 + _BASE64.index(char)
    return value
