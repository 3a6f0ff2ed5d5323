"""Readers of GNU gettext ``.mo`` catalogs, the message catalogs of the games the corpora take
text from (Wesnoth, Freeciv, Cataclysm: DDA, Warzone 2100): ``(msgid, msgstr)`` pairs, with
each game's own marks (contexts, menu mnemonics) dropped.

A message may be a whole help text; :func:`training.sources.extract` splits long ones into
paragraphs or sentences (:func:`training.sources.align_long`).

Not for: which packages hold the catalogs (see :mod:`training.sources`) or cleaning (see
:mod:`training.clean`).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from pathlib import Path

from seq2seq.tokenizer import CJK

FREECIV_DOMAINS = ("freeciv-core", "freeciv-nations")


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


def wesnoth_messages(catalog_dir: Path) -> Iterator[tuple[str, str]]:
    """The messages of Wesnoth's catalogs (``wesnoth*.mo``); Wesnoth marks some msgids with
    an old-style context, ``context^text``, which is dropped."""
    for mo in sorted(catalog_dir.glob("wesnoth*.mo")):
        for msgid, msgstr in read_mo(mo):
            yield msgid.rsplit("^", 1)[-1], msgstr


_FREECIV_CONTEXT = re.compile(r"^\?[^:\s][^:]*:")
# Chinese menus mark a mnemonic after the word: "打开(_O)" for "_Open".
_CJK_MNEMONIC = re.compile(rf"(?<={CJK.pattern})\s?\(_[^\W_]\)")


def freeciv_messages(catalog_dir: Path) -> Iterator[tuple[str, str]]:
    """The messages of Freeciv's catalogs (:data:`FREECIV_DOMAINS`). Freeciv marks some
    msgids with a context, ``?context:text`` (some translations copy it), and menu
    mnemonics with ``_`` (Chinese appends ``(_O)`` to a word): both are dropped."""
    for domain in FREECIV_DOMAINS:
        for msgid, msgstr in read_mo(catalog_dir / f"{domain}.mo"):
            en = _FREECIV_CONTEXT.sub("", msgid)
            xx = _CJK_MNEMONIC.sub("", _FREECIV_CONTEXT.sub("", msgstr))
            if en.count("_") <= 1 and xx.count("_") <= 1:  # menu mnemonics: "Ci_ties"
                en, xx = en.replace("_", ""), xx.replace("_", "")
            yield en, xx
