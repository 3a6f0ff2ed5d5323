"""Split running text into sentences: the one splitter of the translator (a text is
translated sentence by sentence), evaluation and the corpus builder (long pairs are
aligned sentence by sentence).

Latin script (English, German, French): a sentence ends at ``. ! ? …`` (and the closing
quotes or brackets after it) followed by a space and a capital letter or digit, but not
after an abbreviation ("Dr.", "z. B.", "Mme."), an initial ("J. R. R. Tolkien") or a
German ordinal ("am 5. Mai", "im 19. Jahrhundert"). Chinese: after ``。！？`` (and closing
quotes or brackets) followed by more text, with or without a space.

When in doubt it does not split: two sentences translated as one cost less than one
sentence cut in two.

Not for: tokenizing (see :mod:`seq2seq.tokenizer`) or joining translated sentences (see
:mod:`seq2seq.translation`).
"""

from __future__ import annotations

import re

# Abbreviations (without their final dot) that do not end a sentence, compared as written
# and in lower case. One-letter ones ("z. B.", "M.", "e.g.", "U.S.") are found by shape.
ABBREVIATIONS = frozenset(
    {
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
        "Prof",
        "St",
        "Sr",
        "Jr",
        "Mt",
        "Hr",
        "Fr",
        "Nr",
        "Mme",
        "Mlle",
        "Mmes",
        "MM",
        "Ste",
        "Pr",
        "Chr",
        "etc",
        "vs",
        "cf",
        "approx",
        "ca",
        "bzw",
        "usw",
        "vgl",
        "ggf",
        "evtl",
        "inkl",
        "bspw",
        "sog",
        "ff",
        "mio",
        "mrd",
        "hrsg",
        "abb",
        "tel",
        "bd",
        "jh",
        "jhd",
        "av",
        "env",
        "ex",
        "vol",
        "fig",
    }
)
# Words before a number that make "N." a German ordinal ("der 83. Minute").
ORDINAL_BEFORE = frozenset(
    {
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "im",
        "vom",
        "zum",
        "zur",
        "beim",
        "ins",
        "seit",
        "ab",
        "bis",
        "und",
        "oder",
        "jeden",
        "jedem",
        "jeder",
        "jedes",
        "ihr",
        "ihre",
        "ihrem",
        "ihren",
        "ihrer",
        "sein",
        "seine",
        "seinem",
        "seinen",
        "seiner",
    }
)
MONTHS = frozenset(
    {
        "Januar",
        "Jänner",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    }
)
_OPENERS = "\"'„“‘«‹(\\[¿¡"
_LATIN_END = re.compile(r"([.!?…]+)((?:[\"'”“’»›)\]]|\s»)*)\s+")
_CHINESE_END = re.compile(r"[。！？]+[”’」』）》]*\s*(?=[^\s。！？”’」』）》])")
_INITIALS = re.compile(r"[^\W\d_](?:[.\-]+[^\W\d_])*")  # "J", "z.B", "U.S", "c.-à-d"


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped; ``[]`` for empty or blank text."""
    breaks = [m.end() for m in _CHINESE_END.finditer(text)]
    breaks += [m.end() for m in _LATIN_END.finditer(text) if _ends_sentence(text, m)]
    pieces, start = [], 0
    for end in sorted(set(breaks)):
        pieces.append(text[start:end].strip())
        start = end
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _ends_sentence(text: str, m: re.Match) -> bool:
    """Whether the stop ``m`` (punctuation, closers, space) of ``text`` ends a sentence."""
    after = text[m.end() :].lstrip(_OPENERS).lstrip()
    if not after or not (after[0].isupper() or after[0].isdigit()):
        return False  # "Wait... what?", "etc. and"
    if m.group(1) != "." or m.group(2):
        return True  # "?", "!", an ellipsis, or a full stop inside quotes
    words = [w.lstrip(_OPENERS) for w in text[: m.start()].split()] or [""]
    if _abbreviation(words[-1]):
        return False
    if words[-1].isdigit() and len(words[-1]) <= 3:
        before = words[-2] if len(words) > 1 else ""
        return not _ordinal(before, re.match(r"\w+", after).group())
    return True


def _ordinal(before: str, next_word: str) -> bool:
    """Whether a number of up to three digits and a dot, between the words ``before`` and
    ``next_word``, is a German ordinal ("am 5. Mai", "der 83. Minute") or the number of a
    list ("Open it. 2. Save it.") rather than the end of a sentence."""
    if before.lower() in ORDINAL_BEFORE or next_word in MONTHS:
        return True
    if before.endswith("."):
        return not _abbreviation(before[:-1])  # not "Hauptstr. 5. Das"
    return not before or before[-1] in "!?:;"


def _abbreviation(word: str) -> bool:
    """Whether ``word`` (its final dot cut) is an abbreviation or initial."""
    if word in ABBREVIATIONS or word.lower() in ABBREVIATIONS or word.lower().endswith("str"):
        return True  # "Dr.", "ca.", "Hauptstr."
    return word != "I" and _INITIALS.fullmatch(word) is not None  # "J.", "z.B.", "U.S."
