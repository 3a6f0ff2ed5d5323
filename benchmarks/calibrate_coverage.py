"""Calibrate the coverage and confidence thresholds of :mod:`seq2seq.coverage`:
``python -m benchmarks.calibrate_coverage [--model models/en-de]
[--dev training/data/en-de/dev-v1.tsv.gz] [--sentences 2000]``.

How: translate the dev split (beam 5, α 0.6: the app's defaults) and, for the best
candidate of each sentence, compute every source word's coverage ratio (its attention over
the sentence's median, :class:`seq2seq.coverage.Report`) and every output piece's
probability. There are no gold labels for "untranslated" or "wrong", so each threshold is
set by a false-alarm budget on translations that are probably right, then checked against
a proxy for real errors:

- Sentences whose sentence chrF against the reference is at least ``--good-chrf`` (60)
  are *good*; below ``--poor-chrf`` (30), *poor*.
- Coverage: the largest ratio on a grid that flags at most ``--word-budget`` (2 %) of the
  word-like source words of good sentences. Check: *copy words* (source words with a digit,
  or capitalised past the sentence's first word, that occur verbatim in the reference:
  numbers, names, product terms) that the output lacks (dropped) should be flagged far
  more often than those it keeps.
- Confidence: the largest probability on a grid that flags at most ``--piece-budget`` (5 %)
  of the output pieces of good sentences. Check: pieces of output words that are not in
  the reference should be flagged more often than pieces of words that are.

The chosen values are what ``MIN_COVERAGE_RATIO`` and ``MIN_PIECE_PROBABILITY`` hold; the
figures of the run that set them are in the README (section "Coverage and confidence").

A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.common import load_columns, machine  # noqa: E402

GRID = (0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def plain_words(text: str) -> set[str]:
    """The words of ``text``, punctuation stripped (case kept)."""
    return set(re.findall(r"\w+", text))


def copy_word(word: str, position: int, reference: set[str]) -> str:
    """``word`` without punctuation if it is a copy word of the reference, else ""."""
    word = re.sub(r"^\W+|\W+$", "", word)
    named = any(ch.isdigit() for ch in word) or (position > 0 and word[:1].isupper())
    return word if named and word in reference else ""


def collect(model: str, dev: str, sentences: int, beam: int, alpha: float) -> list[dict]:
    """Per dev sentence: chrF of the best candidate, source-word ratios and whether each is
    a copy word kept/dropped, output-piece probabilities and whether each piece's word is
    in the reference."""
    import sacrebleu

    from seq2seq.alignment import word_index, words
    from seq2seq.coverage import Report
    from seq2seq.translator import Translator

    sources, references = (c[:sentences] for c in load_columns(dev))
    translator = Translator.load(model)
    done = translator.translate(sources, beam_size=beam, length_penalty=alpha, split=False)
    rows = []
    for reference, translation in zip(references, done):
        if not translation.hypotheses:
            continue
        best = translation.hypotheses[0]
        report = Report.of(best, translation.source_pieces)
        in_reference, in_output = plain_words(reference), plain_words(best.text)
        copies = [copy_word(w, i, in_reference) for i, w in enumerate(report.source_words)]
        copy = [(bool(w), w in in_output) for w in copies]
        lowered = {w.lower() for w in in_reference}
        output_words = [re.sub(r"^\W+|\W+$", "", w).lower() in lowered for w in words(best.pieces)]
        piece_ok = [None if w is None else output_words[w] for w in word_index(best.pieces)]
        rows.append(
            {
                "chrf": sacrebleu.sentence_chrf(best.text, [reference]).score,
                "ratios": report.ratios,
                "copy": copy,
                "probs": np.exp(best.token_log_probs),
                "piece_ok": piece_ok,
            }
        )
    return rows


def rate(values, threshold: float) -> str:
    """The share of ``values`` below ``threshold``, e.g. "1.8 % of 9412"."""
    if not values:
        return "-"
    return f"{100 * np.mean(np.asarray(values) < threshold):.1f} % of {len(values)}"


def choose(columns: dict[str, list[float]], budget: float) -> float:
    """Print a row per threshold of :data:`GRID`: the share of each column's values below
    it; returns the largest threshold flagging at most ``budget`` of the first column."""
    print("| below | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    budgeted = next(iter(columns.values()))
    chosen = GRID[0]
    for threshold in GRID:
        if np.mean(np.asarray(budgeted) < threshold) <= budget:
            chosen = threshold
        print(f"| {threshold} | " + " | ".join(rate(v, threshold) for v in columns.values()) + " |")
    return chosen


def word_columns(good, poor, rows) -> dict[str, list[float]]:
    """Coverage ratios of word-like source words: of good and poor sentences, of copy
    words the output dropped, of copy words it kept."""
    dropped, kept = [], []
    for row in rows:
        for ratio, (is_copy, in_output) in zip(row["ratios"], row["copy"]):
            if is_copy and not np.isnan(ratio):
                (kept if in_output else dropped).append(ratio)
    return {
        "words of good sentences": [r for row in good for r in row["ratios"] if not np.isnan(r)],
        "of poor sentences": [r for row in poor for r in row["ratios"] if not np.isnan(r)],
        "copy words dropped": dropped,
        "copy words kept": kept,
    }


def piece_columns(good, poor, rows) -> dict[str, list[float]]:
    """Output-piece probabilities: of good and poor sentences, of pieces of words not in
    the reference, of pieces of words in it."""

    def probs(selected, wanted=(True, False)):
        return [
            p for row in selected for p, ok in zip(row["probs"], row["piece_ok"]) if ok in wanted
        ]

    return {
        "pieces of good sentences": probs(good),
        "of poor sentences": probs(poor),
        "of words not in the reference": probs(rows, (False,)),
        "of words in it": probs(rows, (True,)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.calibrate_coverage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", default="models/en-de")
    parser.add_argument("--dev", default="training/data/en-de/dev-v1.tsv.gz")
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--length-penalty", type=float, default=0.6)
    parser.add_argument("--good-chrf", type=float, default=60.0)
    parser.add_argument("--poor-chrf", type=float, default=30.0)
    parser.add_argument("--word-budget", type=float, default=0.02)
    parser.add_argument("--piece-budget", type=float, default=0.05)
    args = parser.parse_args(argv)

    from seq2seq.coverage import MIN_COVERAGE_RATIO, MIN_PIECE_PROBABILITY

    print(
        f"## {args.model} on {args.dev} (beam {args.beam_size}, α {args.length_penalty}); "
        f"{machine()}\n"
    )
    rows = collect(args.model, args.dev, args.sentences, args.beam_size, args.length_penalty)
    good = [r for r in rows if r["chrf"] >= args.good_chrf]
    poor = [r for r in rows if r["chrf"] < args.poor_chrf]
    print(
        f"{len(rows)} sentences: {len(good)} good (chrF ≥ {args.good_chrf:g}), {len(poor)} "
        f"poor (chrF < {args.poor_chrf:g})\n"
    )
    ratio = choose(word_columns(good, poor, rows), args.word_budget)
    print(
        f"\ncoverage: flag a word below {ratio} x the median (at most "
        f"{args.word_budget:.0%} of good sentences' words); the library has "
        f"{MIN_COVERAGE_RATIO}\n"
    )
    probability = choose(piece_columns(good, poor, rows), args.piece_budget)
    print(
        f"\nconfidence: flag a piece below {probability} (at most {args.piece_budget:.0%} "
        f"of good sentences' pieces); the library has {MIN_PIECE_PROBABILITY}"
    )


if __name__ == "__main__":
    main()
