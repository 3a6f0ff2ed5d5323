"""Translate stdin to stdout, one sentence per line:
``python -m seq2seq.translate --model models/en-de [--beam-size 5] [--n-best 3]
[--length-penalty 0.6] [--format text|nbest|json|pharaoh] [--batch-size 64]``.

Formats:
- ``text``: the best translation per line.
- ``nbest``: TSV rows ``line index, rank, score, text`` (``n-best`` rows per line).
- ``json``: one JSON object per line with every candidate, its scores, pieces and attention.
- ``pharaoh``: hard word alignments ``i-j`` (source word i, output word j) of the best
  candidate, from attention argmax over whitespace words.

Empty input lines give empty output (one row with rank 1 and an empty text in ``nbest``),
so line counts match. Progress goes to stderr for long inputs.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from seq2seq.alignment import pharaoh
from seq2seq.hub import load_translator_or_exit
from seq2seq.translator import Translation

CHUNK = 512  # lines translated per call (bounded memory, steady progress reports)


def format_lines(index: int, translation: Translation | None, fmt: str, n_best: int):
    """Output lines for input line ``index`` (``translation`` None for an empty line)."""
    if fmt == "text":
        return [translation.best if translation else ""]
    if fmt == "nbest":
        if translation is None:
            return [f"{index}\t1\t0.0\t"]
        return [
            f"{index}\t{rank}\t{h.score:.4f}\t{h.text}"
            for rank, h in enumerate(translation.hypotheses[:n_best], 1)
        ]
    if fmt == "json":
        data = translation.to_dict() if translation else {"source": "", "hypotheses": []}
        return [json.dumps(data, ensure_ascii=False)]
    if fmt == "pharaoh":
        if translation is None or not translation.hypotheses:
            return [""]
        best = translation.hypotheses[0]
        return [pharaoh(best.attention, translation.source_pieces, best.pieces)]
    raise ValueError(f"unknown format {fmt!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m seq2seq.translate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="model folder or USER/NAME[@REVISION]")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--n-best", type=int, default=1)
    parser.add_argument("--length-penalty", type=float, default=0.6)
    parser.add_argument("--format", choices=("text", "nbest", "json", "pharaoh"), default="text")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    if args.beam_size < 1 or not 1 <= args.n_best <= args.beam_size:
        parser.error("need beam-size >= 1 and 1 <= n-best <= beam-size")
    logging.basicConfig(level=logging.WARNING)
    translator = load_translator_or_exit(args.model, batch_size=args.batch_size)
    lines = sys.stdin.read().splitlines()
    start, done = time.time(), 0
    for chunk_start in range(0, len(lines), CHUNK):
        chunk = lines[chunk_start : chunk_start + CHUNK]
        texts = [line for line in chunk if line.strip()]
        results = iter(
            translator.translate(
                texts,
                beam_size=args.beam_size,
                n_best=args.n_best,
                length_penalty=args.length_penalty,
            )  # fmt: skip
        )
        for offset, line in enumerate(chunk):
            translation = next(results) if line.strip() else None
            for out in format_lines(chunk_start + offset, translation, args.format, args.n_best):
                sys.stdout.write(out + "\n")
        sys.stdout.flush()
        done += len(chunk)
        if len(lines) > CHUNK:
            rate = done / (time.time() - start)
            print(f"translated {done}/{len(lines)} lines ({rate:.0f} lines/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
