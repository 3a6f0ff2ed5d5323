"""Translate one sentence (or text) per line, stdin to stdout or ``-i FILE`` to ``-o FILE``:
``python -m seq2seq.translate --model models/en-de [--beam-size 5] [--n-best 3]
[--length-penalty ALPHA] [--format text|nbest|moses|json|pharaoh] [--alignments]
[--word-level] [--batch-size 64] [-i INPUT] [-o OUTPUT]``.

Formats:
- ``text``: the best translation per line.
- ``nbest``: TSV rows ``line index, rank, score, text`` (``n-best`` rows per line).
- ``moses``: Moses/Marian n-best rows ``line index ||| text ||| score``.
- ``json``: one JSON object per line with every candidate, its scores, pieces and attention.
- ``pharaoh``: hard alignments ``i-j`` (source piece i, output piece j: indexes into the
  ``source_pieces`` and ``pieces`` of ``json``, ``</s>`` never aligned) of the best
  candidate, from attention argmax.

``--alignments`` appends each candidate's Pharaoh alignments: `` ||| i-j ...`` to ``text``
and ``moses`` lines, a fifth column to ``nbest`` rows, an ``alignment`` field in ``json``.
``--word-level`` aligns whitespace words instead of subword pieces (i: source word, j:
output word), merging each word's pieces (source attention summed, output rows averaged;
see :func:`seq2seq.alignment.merge_attention`).

Lines: only "\\n" ends a line (a trailing "\\r" is dropped); U+2028, U+0085, form feeds and
other separators stay inside their line, so there is one output line (one group of rows)
per input line, in order. Line indexes in the output count from 0; line numbers in messages
from 1. Input is read as it comes and each batch is written (and flushed) when translated.
Empty input lines give empty output (one row with rank 1 and an empty text in n-best
formats).

Errors: a line that cannot be translated (more than ``--max-input-chars`` characters, a
sentence over ``--max-sentence-tokens`` subword tokens) gives an empty output line, one
``error: line N: …`` line on stderr, and exit status 1 at the end; the other lines are
translated. Input that is not text in ``--encoding`` (UTF-8 by default), or holds NUL
bytes, stops the run at that line (the lines before it are written) naming the line and
byte, exit status 1. Bad options are usage errors (exit status 2).
"""

from __future__ import annotations

import argparse
import codecs
import json
import logging
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seq2seq import cli
from seq2seq import options as library_caps
from seq2seq.alignment import pharaoh
from seq2seq.options import DEFAULT_LENGTH_PENALTY, DecodeOptions
from seq2seq.translation import NO_ATTENTION

if TYPE_CHECKING:  # the model libraries load only after the options are checked
    from seq2seq.translation import Translation

CHUNK = 512  # lines translated per call at most (bounded memory, steady flushes)
READ_SIZE = 1 << 16  # bytes per read; a shorter read means the input paused: flush
MAX_BATCH_SIZE = 1024
MAX_SENTENCE_TOKENS = 1024  # what --max-sentence-tokens may be raised to
MAX_INPUT_CHARS = 10_000_000
PROGRESS_SECONDS = 10.0
FORMATS = ("text", "nbest", "moses", "json", "pharaoh")


class InputError(Exception):
    """Input that is not text: stops the run (message names line and byte)."""


@dataclass
class Line:
    """One input line: ``text`` (None when it cannot be translated, ``error`` says why)."""

    index: int  # 0-based
    text: str | None
    error: str = ""

    @property
    def number(self) -> int:
        return self.index + 1


# --- reading ---------------------------------------------------------------------------


@dataclass
class RawLine:
    data: bytes  # without "\n" and a trailing "\r"; only the first max_bytes when cut
    offset: int  # byte offset of the line's start in the input
    size: int  # the whole line's size in bytes (past data when cut)
    cut: bool


def raw_lines(stream, max_bytes: int) -> Iterator[RawLine | None]:
    """The lines of the binary ``stream``, split only on b"\\n" (a last line without one
    too), each kept to its first ``max_bytes`` bytes (bounded memory for a 5 MB line).
    Yields ``None`` after a short read (the input paused, e.g. a person typing), so the
    caller can translate what it has instead of waiting for a full chunk."""
    read = getattr(stream, "read1", stream.read)
    buf, size, start = bytearray(), 0, 0  # current line: kept bytes, full size, offset
    position = 0  # offset of the data just read
    while data := read(READ_SIZE):
        begin = 0
        while (end := data.find(b"\n", begin)) >= 0:
            yield _finish(buf, data[begin:end], size, start, max_bytes)
            buf, size, start = bytearray(), 0, position + end + 1
            begin = end + 1
        piece = data[begin:]
        if len(buf) <= max_bytes:
            buf += piece[: max_bytes + 1 - len(buf)]  # + 1: keep a "\r" or see the cut
        size += len(piece)
        position += len(data)
        if len(data) < READ_SIZE:
            yield None
    if size:
        yield _finish(buf, b"", size, start, max_bytes)


def _finish(buf: bytearray, tail: bytes, size: int, start: int, max_bytes: int) -> RawLine:
    if len(buf) <= max_bytes:
        buf += tail[: max_bytes + 1 - len(buf)]
    size += len(tail)
    data = bytes(buf)
    if data.endswith(b"\r") and size == len(data):
        data, size = data[:-1], size - 1
    return RawLine(data[:max_bytes], start, size, size > max_bytes)


def decode(raw: RawLine, number: int, encoding: str) -> str:
    """The text of ``raw`` (its first part when cut); InputError naming line and byte for
    NUL bytes or bytes that are not ``encoding``."""
    nul = raw.data.find(b"\0")
    if nul >= 0:
        raise InputError(
            f"line {number} has a NUL byte at byte {nul} of the line (offset "
            f"{raw.offset + nul} in the input): this looks like a binary file, not text"
        )
    try:
        return codecs.getincrementaldecoder(encoding)().decode(raw.data, final=not raw.cut)
    except UnicodeDecodeError as e:
        raise InputError(
            f"line {number} is not valid {encoding}: {e.reason} at byte {e.start} of the "
            f"line (offset {raw.offset + e.start} in the input); give --encoding if the "
            f"input is in another encoding"
        ) from None


def read_lines(stream, encoding: str, max_chars: int) -> Iterator[Line | None]:
    """Decoded :class:`Line` s of ``stream`` (``None`` where the input paused). A line over
    ``max_chars`` characters comes without text and with an error; InputError stops."""
    max_bytes = max_chars * 4 + 4  # no encoding spends more than 4 bytes on a character
    index = 0
    for raw in raw_lines(stream, max_bytes):
        if raw is None:
            yield None
            continue
        text = decode(raw, index + 1, encoding)
        if raw.cut:
            yield Line(index, None, f"{raw.size} bytes; the limit is {max_chars} characters")
        elif len(text) > max_chars:
            yield Line(index, None, f"{len(text)} characters; the limit is {max_chars}")
        else:
            yield Line(index, text)
        index += 1


# --- writing -------------------------------------------------------------------------


def _one_line(text: str, tab: bool = False) -> str:
    """``text`` safe inside one output line (and one TSV field with ``tab``)."""
    text = text.replace("\r", " ").replace("\n", " ")
    return text.replace("\t", " ") if tab else text


def format_lines(
    index: int,
    translation: Translation | None,
    fmt: str,
    n_best: int,
    alignments: bool = False,
    error: str = "",
    word_level: bool = False,
) -> list[str]:
    """Output lines for input line ``index`` (``translation`` None for an empty line or one
    that failed: the same lines as for an empty translation, so alignment is kept; ``json``
    adds the ``error``); alignments of pieces, or of words with ``word_level``."""
    hyps = translation.hypotheses[:n_best] if translation else []
    source_pieces = translation.source_pieces if translation else []

    def align(h) -> str:
        return pharaoh(h.attention, source_pieces, h.pieces, word_level)

    if fmt == "text":
        text = _one_line(hyps[0].text) if hyps else ""
        return [f"{text} ||| {align(hyps[0]) if hyps else ''}" if alignments else text]
    if fmt in ("nbest", "moses"):
        rows = [
            (rank, f"{h.score:.4f}", h.text, align(h) if alignments else "")
            for rank, h in enumerate(hyps, 1)
        ] or [(1, "0.0", "", "")]
        if fmt == "nbest":
            return [
                f"{index}\t{rank}\t{score}\t{_one_line(text, tab=True)}"
                + (f"\t{links}" if alignments else "")
                for rank, score, text, links in rows
            ]
        return [
            f"{index} ||| {_one_line(text)} ||| {score}" + (f" ||| {links}" if alignments else "")
            for _, score, text, links in rows
        ]
    if fmt == "json":
        if translation is None:
            data = {"source": "", "hypotheses": []} | ({"error": error} if error else {})
        else:
            data = translation.to_dict()
            data["hypotheses"] = data["hypotheses"][:n_best]
            if alignments:
                for h, out in zip(hyps, data["hypotheses"]):
                    out["alignment"] = align(h)
        return [json.dumps(data, ensure_ascii=False)]
    if fmt == "pharaoh":
        return [align(hyps[0]) if hyps else ""]
    raise ValueError(f"unknown format {fmt!r}")


# --- options ---------------------------------------------------------------------------


def _int_in(low: int, high: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {number}")
        return number

    return parse


_whole = _int_in(-(2**63), 2**63)  # any whole number; DecodeOptions checks the range


def _finite(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {value!r}")
    return number


def _encoding(value: str) -> str:
    try:
        name = codecs.lookup(value).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {value!r}") from None
    if name.startswith(("utf-16", "utf-32")):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not ASCII-compatible; lines are split on the byte 0x0A"
        )
    return name


def parse_args(argv=None) -> argparse.Namespace:
    """Parsed and checked options, with ``args.options`` the :class:`DecodeOptions`;
    anything invalid is a usage error (exit status 2)."""
    parser = argparse.ArgumentParser(
        prog="python -m seq2seq.translate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="model folder or USER/NAME[@REVISION]")
    parser.add_argument("-i", "--input", help="read this file instead of stdin")
    parser.add_argument("-o", "--output", help="write this file instead of stdout")
    parser.add_argument("--beam-size", type=_whole, default=5, help="1 = greedy search")
    parser.add_argument("--n-best", type=_whole, default=1, help="candidates per line")
    parser.add_argument(
        "--length-penalty",
        type=_finite,
        help="GNMT alpha (default: the model's own, else "
        f"{DEFAULT_LENGTH_PENALTY}; see seq2seq.options)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text")
    cli.add_loading_arguments(parser)
    parser.add_argument(
        "--alignments", action="store_true", help="append Pharaoh alignments to each line"
    )
    parser.add_argument(
        "--word-level",
        action="store_true",
        help="alignments between whole words instead of subword pieces",
    )
    parser.add_argument(
        "--batch-size",
        type=_int_in(1, MAX_BATCH_SIZE),
        default=64,
        help="sentences per model call",
    )
    parser.add_argument(
        "--max-sentence-tokens",
        type=_int_in(2, MAX_SENTENCE_TOKENS),
        default=library_caps.MAX_SENTENCE_TOKENS,
        help="longest sentence translated, subword tokens (a longer one fails its line)",
    )
    parser.add_argument(
        "--max-input-chars",
        type=_int_in(1, MAX_INPUT_CHARS),
        default=library_caps.MAX_INPUT_CHARS,
        help="longest line translated, characters (a longer one fails its line)",
    )
    parser.add_argument(
        "--encoding", type=_encoding, default="utf-8", help="input encoding (default UTF-8)"
    )
    parser.add_argument(
        "--no-shortlist",
        action="store_true",
        help="score the whole vocabulary in large batches too (slower; by default they "
        "score the model's lexical shortlist, see seq2seq.shortlist)",
    )
    args = parser.parse_args(argv)
    try:
        args.options = DecodeOptions(
            beam_size=args.beam_size,
            n_best=args.n_best,
            length_penalty=DEFAULT_LENGTH_PENALTY
            if args.length_penalty is None
            else args.length_penalty,
        )
    except ValueError as e:  # "beam_size must be …" → "--beam-size must be …"
        field, rest = str(e).split(" ", 1)
        parser.error(f"--{field.replace('_', '-')} {rest}")
    if args.alignments and args.format == "pharaoh":
        parser.error("--alignments does not apply to --format pharaoh (alignments only)")
    if args.word_level and not (args.alignments or args.format == "pharaoh"):
        parser.error("--word-level applies to alignments: add --alignments or --format pharaoh")
    paths = [args.input, args.output]
    if all(paths) and all(map(os.path.exists, paths)) and os.path.samefile(*paths):
        parser.error("--output is the --input file")
    return args


# --- running ---------------------------------------------------------------------------


class Run:
    """Translate batches of :class:`Line` s and write their output lines."""

    def __init__(self, translator, args, out):
        self.translator, self.args, self.out = translator, args, out
        self.lines = self.failed = 0
        self.start = self.reported = time.time()

    def __call__(self, batch: list[Line]) -> None:
        if not batch:
            return
        todo = [line for line in batch if line.text is not None and line.text.strip()]
        done = dict(zip((line.index for line in todo), self._translate(todo)))
        chunks = []
        for line in batch:
            translation = done.get(line.index)
            if translation is not None and translation.error:
                line.error, translation = translation.error, None
            if line.error:
                self.failed += 1
                print(f"error: line {line.number}: {line.error}", file=sys.stderr)
            a = self.args
            chunks += format_lines(
                line.index,
                translation,
                a.format,
                a.n_best,
                a.alignments,
                line.error,
                a.word_level,
            )
        self.out.write("".join(f"{c}\n" for c in chunks).encode("utf-8", "replace"))
        self.out.flush()
        self.lines += len(batch)
        self._progress()

    def _translate(self, lines: list[Line]) -> list[Translation | None]:
        """Translations of ``lines``; should a batch fail as a whole, each line alone,
        a line that still fails getting ``None`` and its error."""
        texts = [line.text for line in lines]
        try:
            return self.translator.translate(texts, self.args.options, errors="empty")
        except Exception as e:  # never lose a batch to one line
            if len(lines) == 1:
                lines[0].error = f"{type(e).__name__}: {e}"
                return [None]
        return [self._translate([line])[0] for line in lines]

    def _progress(self) -> None:
        """A line on stderr every PROGRESS_SECONDS, once past the first chunk."""
        now = time.time()
        if self.lines > CHUNK and now - self.reported >= PROGRESS_SECONDS:
            rate = self.lines / (now - self.start)
            print(f"translated {self.lines} lines ({rate:.1f} lines/s)", file=sys.stderr)
            self.reported = now


def translate_stream(translator, args, source, out) -> int:
    """Translate the binary ``source`` into the binary ``out``; returns the exit status."""
    run, batch = Run(translator, args, out), []
    try:
        for line in read_lines(source, args.encoding, args.max_input_chars):
            if line is not None:
                batch.append(line)
            if batch and (line is None or len(batch) >= CHUNK):
                run(batch)
                batch = []
    except InputError as e:
        run(batch)
        print(f"error: {e}", file=sys.stderr)
        return 1
    run(batch)
    if run.failed:
        print(f"error: {run.failed} of {run.lines} lines not translated", file=sys.stderr)
        return 1
    return 0


def use_model_alpha(args, translator) -> None:
    """Without ``--length-penalty``, decode with the model's own α (its folder's)."""
    if args.length_penalty is None:
        args.options = args.options.replace(
            length_penalty=translator.default_options.length_penalty
        )


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        source = open(args.input, "rb") if args.input else sys.stdin.buffer  # noqa: SIM115
    except OSError as e:
        print(f"error: cannot read {args.input}: {e.strerror}", file=sys.stderr)
        raise SystemExit(1) from None

    translator = cli.load_translator_or_exit(
        args.model,
        batch_size=args.batch_size,
        max_sentence_tokens=args.max_sentence_tokens,
        max_input_chars=args.max_input_chars,
        shortlist=not args.no_shortlist,
        precision=args.precision,
        cache_dir=args.cache_dir,
    )
    wants_alignments = args.alignments or args.format == "pharaoh"
    if wants_alignments and not translator.model.model_config.has_attention:
        print(f"error: {args.model}: {NO_ATTENTION}", file=sys.stderr)
        raise SystemExit(2)
    use_model_alpha(args, translator)
    try:
        out = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
    except OSError as e:
        print(f"error: cannot write {args.output}: {e.strerror}", file=sys.stderr)
        raise SystemExit(1) from None
    try:
        status = translate_stream(translator, args, source, out)
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    except KeyboardInterrupt:
        status = 130
    finally:
        for f in (source, out):
            if f not in (sys.stdin.buffer, sys.stdout.buffer):
                f.close()
    raise SystemExit(status)


if __name__ == "__main__":
    main()
