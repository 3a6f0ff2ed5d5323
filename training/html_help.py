"""Reader of LibreOffice's offline help: HTML pages whose paragraphs and headings carry ids
(``par_id…``, ``hd_id…``), aligned by file path and element id.

Only the visible text of an element is taken; nothing else is cleaned here.

Not for: which packages hold the pages (see :mod:`training.sources`) or cleaning (see
:mod:`training.clean`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

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


def libreoffice_pairs(help_dir: Path, lang_dir: str) -> Iterator[tuple[str, str]]:
    """The texts of the elements an English page and its ``lang_dir`` translation share
    (same file path under ``help_dir``, same element id), in file and page order."""
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
