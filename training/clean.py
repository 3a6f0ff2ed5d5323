"""Cleaning filters for parallel text: normalise, then keep or drop a pair, and say why.

Every filter has a name; :func:`clean` returns the kept pairs and a ``Counter`` of the
names of the filters that dropped the others, so a build log can say what each removed.

Not for: tokenisation (see :mod:`seq2seq.tokenizer`) or splitting (see :mod:`training.corpus`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from seq2seq.tokenizer import CJK, HANZI, normalize

MAX_WORDS = 50
MAX_CHAR_RATIO = 3.0
# Chinese is written without spaces, and one of its characters carries about as much as
# three Latin letters (median 3.0-3.4 English characters per character in the en-zh
# sources), so lengths count a CJK character or CJK punctuation mark as three.
CJK_CHAR_WIDTH = 3
# Target languages written in a script of their own: a translation with none of it is
# untranslated (English copied over, or only a name), whatever its letters' case.
_SCRIPTS = {"zh": re.compile(f"[{HANZI}]")}
# Chinese text mixes ASCII and full-width sentence punctuation after a character ("文件,
# 然后" beside "文件，然后", ~1 in 6 commas in the en-zh sources); one form keeps the
# references and so the model's output consistent. Parentheses stay as they are: ASCII
# ones around English terms are the norm ("文件(F)").
_FULL_WIDTH = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？", ".": "。"}
_ASCII_AFTER_HANZI = re.compile(f"(?<=[{HANZI}]) ?([,;:!?.])(?: |(?=[{HANZI}])|$)")

# Markup and placeholders that a translation model should not learn to copy blindly:
# HTML/Pango tags, WML [tags], gettext/printf and shell-style placeholders, entities,
# Ding's bracketed usage labels, and escapes.
_MARKUP = re.compile(
    r"<[^>]*>|\[/?\w[^\]]*\]|\{[^}]*\}|%[-+ #0]*\d*(?:\.\d+)?[sdifuxXc]|%\w+%|"
    r"\$\w+|&\w+;|\\[nt\"]|@\w+|\|\w"
)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
# Inline formatting tags carry no meaning of their own: strip them rather than drop the pair.
_FORMAT_TAGS = re.compile(r"</?(?:i|b|u|em|strong|small|big|span)(?:\s[^>]*)?>")


def strip_format_tags(text: str) -> str:
    """Remove inline formatting tags such as ``<i>…</i>`` (their text stays)."""
    return _FORMAT_TAGS.sub("", text)


def text_length(text: str) -> int:
    """Length in Latin letters: characters, a CJK one counting :data:`CJK_CHAR_WIDTH`."""
    return len(text) + (CJK_CHAR_WIDTH - 1) * len(CJK.findall(text))


def chinese_punctuation(text: str) -> str:
    """Full-width sentence punctuation after a Chinese character: ``,;:!?.`` directly
    after one (a space before or after it dropped), when the mark ends the text, is
    followed by a space or by another Chinese character: "文件, 然后." → "文件，然后。".
    Decimal points and ASCII after Latin text ("1.5", "Tools:") stay."""
    return _ASCII_AFTER_HANZI.sub(lambda m: _FULL_WIDTH[m.group(1)], text)


def untranslated(src: str, tgt: str, lang: str = "") -> bool:
    """Whether ``tgt`` repeats ``src`` (case-folded) or, for a ``lang`` written in a
    script of its own (Chinese), has no character of that script."""
    script = _SCRIPTS.get(lang)
    return src.casefold() == tgt.casefold() or (script is not None and not script.search(tgt))


def reject_reason(src: str, tgt: str, lang: str = "") -> str | None:
    """The name of the first filter that rejects the (normalised) pair, or ``None``;
    ``lang`` is the target's language code (``zh`` needs Chinese characters)."""
    if not src or not tgt:
        return "empty"
    if _MARKUP.search(src) or _MARKUP.search(tgt):
        return "markup_or_placeholder"
    if not _LETTER.search(src) or not _LETTER.search(tgt):
        return "no_letters"
    if untranslated(src, tgt, lang):
        return "untranslated"
    if len(src.split()) > MAX_WORDS or len(tgt.split()) > MAX_WORDS:
        return "too_long"
    short, long_ = sorted((text_length(src), text_length(tgt)))
    if long_ > 12 and long_ > MAX_CHAR_RATIO * short:
        return "length_ratio"
    return None


def clean(
    pairs: Iterable[tuple[str, str]], lang: str = ""
) -> tuple[list[tuple[str, str]], Counter]:
    """Normalise, filter and de-duplicate ``pairs`` (order kept, first copy wins);
    ``lang`` is the target's language code (see :func:`reject_reason`).

    Returns:
        (kept pairs, Counter of filter name → pairs dropped; ``raw`` counts the input).
    """
    kept: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    counts: Counter = Counter()
    for src, tgt in pairs:
        counts["raw"] += 1
        src, tgt = normalize(strip_format_tags(src)), normalize(strip_format_tags(tgt))
        if lang == "zh":
            tgt = chinese_punctuation(tgt)
        reason = reject_reason(src, tgt, lang)
        if reason is None and (src, tgt) in seen:
            reason = "duplicate"
        if reason:
            counts[reason] += 1
            continue
        seen.add((src, tgt))
        kept.append((src, tgt))
    counts["kept"] = len(kept)
    return kept, counts
