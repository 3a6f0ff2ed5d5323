"""Files of the app: result files on disk (downloads, translated files), uploads read into a
visitor's session, and the lines of an uploaded file.

Not for: what a request does with them (see :mod:`webapp.service`).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from webapp.limits import RESULT_MAX_AGE


class Refusal(ValueError):
    """A request the app will not answer; ``str(e)`` is the message for the visitor (plain
    text: whoever shows it escapes it)."""


class ResultFolder:
    """The app's one folder for result files (downloads, batch outputs).

    It lies inside ``parent`` (the page passes Gradio's upload folder, so Gradio serves
    these files as they are, with no second copy in its cache). Each request writes into a
    new subfolder with a random name; subfolders older than ``max_age`` seconds are
    deleted whenever a new one is made, and the whole folder at exit (:meth:`close`, also
    registered with :mod:`atexit`).
    """

    def __init__(self, parent: str | Path, max_age: float = RESULT_MAX_AGE):
        parent = Path(parent)
        parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="translator-results-", dir=parent))
        self.max_age = max_age
        atexit.register(self.close)

    def write(self, files: dict[str, str | bytes]) -> list[str]:
        """Write ``{file name: text (UTF-8) or bytes}`` into a new subfolder; returns their
        paths."""
        self.sweep()
        folder = Path(tempfile.mkdtemp(dir=self.path))
        for name, content in files.items():
            if isinstance(content, bytes):
                (folder / name).write_bytes(content)
            else:
                (folder / name).write_text(content, encoding="utf-8")
        return [str(folder / name) for name in files]

    def sweep(self, now: float | None = None) -> None:
        """Delete the subfolders older than ``max_age``."""
        now = time.time() if now is None else now
        for folder in list(self.path.iterdir()):
            try:
                stale = now - folder.stat().st_mtime > self.max_age
            except FileNotFoundError:  # another request swept it
                continue
            if stale:
                shutil.rmtree(folder, ignore_errors=True)

    def holds(self, path: Path) -> bool:
        """Whether ``path`` lies inside this folder."""
        return Path(path).resolve().is_relative_to(self.path.resolve())

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class Upload(NamedTuple):
    """A file a visitor uploaded, read into memory (at most the page's upload limit) and
    kept in their session only: a request can translate its own upload and no other
    file."""

    name: str
    data: bytes


def split_lines(data: bytes) -> list[str]:
    """The lines of an uploaded file: split on "\\n" only, a trailing "\\r" dropped, so
    U+2028, U+0085, form feeds and the like stay inside their line; a final "\\n" ends
    the last line. Non-UTF-8 input is refused, naming the line and the byte."""
    raw = data.split(b"\n")
    if raw[-1] == b"":
        raw.pop()
    lines = []
    for number, line in enumerate(raw, 1):
        try:
            lines.append(line.decode("utf-8").removesuffix("\r"))
        except UnicodeDecodeError as e:
            raise Refusal(
                f"The file is not UTF-8 text: line {number}, byte {e.start + 1} of that line "
                f"({e.reason})."
            ) from None
    if lines:
        lines[0] = lines[0].removeprefix("\ufeff")
    return lines


def batch_status(count: int, failed: dict[int, str]) -> str:
    """E.g. "12 lines translated." or "12 lines: 10 translated, 2 left empty (…)"."""
    if not failed:
        return f"{count} lines translated."
    numbers = sorted(failed)
    shown = ", ".join(map(str, numbers[:20])) + (", …" if len(numbers) > 20 else "")
    first = numbers[0]
    return (
        f"{count} lines: {count - len(failed)} translated, {len(failed)} left empty "
        f"(could not be translated): line {shown}. Line {first}: {failed[first]}."
    )


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
