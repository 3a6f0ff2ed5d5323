"""Read parallel corpora: tab-separated files and Moses-style aligned file pairs.

Formats:
- TSV (``.tsv`` or ``.tsv.gz``): ``source<TAB>target`` or ``source<TAB>target<TAB>origin``
  (the common flashcard export ``src<TAB>tgt<TAB>attribution``, and our own corpora,
  whose third column names the source).
- Moses: two files of the same length, line *i* of one translating line *i* of the other.

Bad input never passes silently. Wrong column counts, undecodable bytes and lines with
one side empty raise :class:`CorpusFormatError` naming the file and line; with
``skip_bad=True`` they are skipped instead and counted in the :class:`ReadReport`.
Blank lines (both sides empty) are always skipped and counted.

Not for: building the default corpora (see :mod:`training.corpus`).
"""

from __future__ import annotations

import gzip
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)


class CorpusFormatError(ValueError):
    """A corpus line that cannot be read; the message names file and line.

    Args:
        location: ``file:line`` (or ``file``).
        reason: a short, countable reason (``not UTF-8``, ``wrong column count``...).
        detail: the rest of the message.
    """

    def __init__(self, location: str, reason: str, detail: str = ""):
        super().__init__(f"{location}: {reason}{detail}")
        self.location, self.reason = location, reason


class Pair(NamedTuple):
    src: str
    tgt: str
    origin: str = ""


@dataclass
class ReadReport:
    """What a read kept and skipped (reason → count, with the first few locations)."""

    path: str
    pairs: int = 0
    skipped: Counter = field(default_factory=Counter)
    where: list[str] = field(default_factory=list)

    def skip(self, reason: str, location: str) -> None:
        self.skipped[reason] += 1
        if len(self.where) < 10:
            self.where.append(f"{location}: {reason}")

    def summary(self) -> str:
        if not self.skipped:
            return f"{self.path}: {self.pairs} pairs"
        parts = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return f"{self.path}: {self.pairs} pairs; skipped {parts} (first: {self.where[0]})"


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            for number, raw in enumerate(f, 1):
                yield number, raw.rstrip(b"\r\n")
    except FileNotFoundError:
        raise CorpusFormatError(str(path), "no such file") from None
    except (OSError, EOFError) as e:  # e.g. a truncated or non-gzip .gz
        raise CorpusFormatError(str(path), "cannot be read", f" ({e})") from None


def _decode(raw: bytes, location: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusFormatError(location, "not UTF-8", f" ({e.reason} at byte {e.start})") from None


def _handle(error: CorpusFormatError, report: ReadReport, skip_bad: bool) -> None:
    if not skip_bad:
        raise error
    report.skip(error.reason, error.location)


def read_tsv(
    path: str | Path, *, skip_bad: bool = False, reverse: bool = False
) -> tuple[list[Pair], ReadReport]:
    """Read a TSV corpus (2 or 3 columns). ``reverse`` swaps source and target."""
    path = Path(path)
    report, pairs = ReadReport(str(path)), []
    for number, raw in _lines(path):
        location = f"{path}:{number}"
        try:
            line = _decode(raw, location)
            if not line.strip():
                report.skip("blank line", location)
                continue
            cols = line.split("\t")
            if len(cols) not in (2, 3):
                raise CorpusFormatError(
                    location,
                    "wrong column count",
                    f": expected 2 or 3 tab-separated columns (source, target[, origin]), "
                    f"found {len(cols)}",
                )
            src, tgt = cols[0].strip(), cols[1].strip()
            if not src or not tgt:
                raise CorpusFormatError(location, f"empty {'source' if not src else 'target'}")
        except CorpusFormatError as e:
            _handle(e, report, skip_bad)
            continue
        pairs.append(Pair(tgt, src, *cols[2:3]) if reverse else Pair(src, tgt, *cols[2:3]))
    report.pairs = len(pairs)
    if report.skipped:
        log.warning("%s", report.summary())
    return pairs, report


def read_moses(
    src_path: str | Path, tgt_path: str | Path, *, skip_bad: bool = False
) -> tuple[list[Pair], ReadReport]:
    """Read two line-aligned files (``corpus.en`` + ``corpus.de``)."""
    src_path, tgt_path = Path(src_path), Path(tgt_path)
    report, pairs = ReadReport(f"{src_path} + {tgt_path}"), []
    src_lines, tgt_lines = list(_lines(src_path)), list(_lines(tgt_path))
    if len(src_lines) != len(tgt_lines):
        raise CorpusFormatError(
            f"{src_path} + {tgt_path}",
            "line counts differ",
            f": {len(src_lines)} vs {len(tgt_lines)}; Moses-style files must be line-aligned",
        )
    for (number, s_raw), (_, t_raw) in zip(src_lines, tgt_lines):
        try:
            src = _decode(s_raw, f"{src_path}:{number}").strip()
            tgt = _decode(t_raw, f"{tgt_path}:{number}").strip()
            if not src and not tgt:
                report.skip("blank line", f"{src_path}:{number}")
                continue
            if not src or not tgt:
                empty = src_path if not src else tgt_path
                raise CorpusFormatError(f"{empty}:{number}", "empty line opposite a non-empty one")
        except CorpusFormatError as e:
            _handle(e, report, skip_bad)
            continue
        pairs.append(Pair(src, tgt))
    report.pairs = len(pairs)
    if report.skipped:
        log.warning("%s", report.summary())
    return pairs, report


def read_corpus(spec: str, *, skip_bad: bool = False, reverse: bool = False):
    """Read ``FILE.tsv[.gz]`` or Moses ``SRC_FILE,TGT_FILE``; returns (pairs, report)."""
    if "," in spec:
        src_path, tgt_path = spec.split(",", 1)
        if reverse:
            src_path, tgt_path = tgt_path, src_path
        return read_moses(src_path, tgt_path, skip_bad=skip_bad)
    return read_tsv(spec, skip_bad=skip_bad, reverse=reverse)
