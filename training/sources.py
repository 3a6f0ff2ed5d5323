"""Extract raw parallel text from the Debian packages the default corpora are built from.

Each source knows its packages, its license and how to turn the unpacked package tree
into ``(english, foreign)`` string pairs. Nothing here cleans or filters beyond what the
file format itself demands (e.g. taking the visible text of an HTML element); cleaning
lives in :mod:`training.clean`, so every dropped pair is counted there.

Not for: downloading (see :mod:`training.corpus`) or reading users' own corpora
(see :mod:`training.readers`).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

WESNOTH_CAMPAIGNS = (
    "did", "dm", "dw", "ei", "httt", "l", "low", "nr",
    "sof", "sota", "sotbe", "thot", "trow", "tsg", "ttb", "utbs",
)  # fmt: skip
WESNOTH_DIR = "usr/share/games/wesnoth/1.16/locale"
LIBREOFFICE_DIR = "usr/share/libreoffice/help"
DING_FILE = "usr/share/trans/de-en"
LIBREOFFICE_LANG = {"en": "en-US", "de": "de", "fr": "fr", "es": "es"}


@dataclass(frozen=True)
class Source:
    """One origin of parallel text.

    Args:
        name: short id written into the corpus' third column (``ding``, ``wesnoth``...).
        packages: Debian packages to ``apt-get download`` (format ``{lang}`` is filled in).
        license: SPDX-style license of the text.
        description: one line for SOURCES.md.
        languages: foreign languages (paired with English) this source offers.
    """

    name: str
    packages: tuple[str, ...]
    license: str
    description: str
    languages: tuple[str, ...]

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
        ("de", "fr", "es"),
    ),
    "libreoffice": Source(
        "libreoffice",
        ("libreoffice-help-en-us", "libreoffice-help-{lang}"),
        "MPL-2.0",
        "LibreOffice 7.4 offline help, aligned by file path and element id",
        ("de", "fr", "es"),
    ),
}


def sources_for(lang: str) -> list[Source]:
    """The sources that pair English with ``lang``."""
    return [s for s in SOURCES.values() if lang in s.languages]


def extract(source: Source, root: Path, lang: str) -> Iterator[tuple[str, str]]:
    """Yield raw ``(english, foreign)`` pairs of ``source`` from the unpacked tree ``root``."""
    if source.name == "ding":
        yield from _ding(root / DING_FILE)
    elif source.name == "wesnoth":
        yield from _wesnoth(root / WESNOTH_DIR / lang / "LC_MESSAGES")
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
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or " :: " not in line:
                continue
            german, english = line.rstrip("\n").split(" :: ", 1)
            de_parts, en_parts = german.split(" | "), english.split(" | ")
            if len(de_parts) != len(en_parts):
                continue
            for de, en in zip(de_parts, en_parts):
                de, en = de.split("; ")[0].strip(), en.split("; ")[0].strip()
                if _SENTENCE_END.search(de) and _SENTENCE_END.search(en):
                    yield en, de


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
    """Wesnoth marks some msgids with an old-style context, ``context^text``."""
    for mo in sorted(catalog_dir.glob("wesnoth*.mo")):
        for msgid, msgstr in read_mo(mo):
            yield msgid.rsplit("^", 1)[-1], msgstr


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
