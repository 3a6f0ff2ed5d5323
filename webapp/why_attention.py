"""Why attention? BLEU by source length of the models of one language pair, with and
without attention, from their folders' ``eval.json`` (``training.evaluate --by-length``):
no decoding, so the page draws it when it is built.

The argument of the seeds (Bahdanau et al. 2015, Figure 2; Cho et al. 2014): an
encoder–decoder without attention must squeeze the whole source sentence into one fixed
vector, and its translations get worse as sentences get longer; attention lets the decoder
look back at every source word.

``python -m webapp.why_attention --out docs/why_attention.png models/en-de
models/en-de-luong models/en-de-noattn`` draws the README's figure from the same data.

Not for: scoring (see ``training.evaluate``) or the compare view (see :mod:`webapp.events`).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from seq2seq.bundle import read_config, read_evaluation
from seq2seq.config import attention_name

EXPLANATION = (
    "A plain encoder–decoder reads the whole source sentence into **one fixed vector** and "
    "translates from that alone; the longer the sentence, the more it has to squeeze in. "
    "Attention lets the decoder look back at every source word at every step (the heat "
    "map above). The plot shows each model's BLEU on its test set, by the length of the "
    "source sentence (Bahdanau et al. 2015 drew the same comparison in their Figure 2). "
    "*Compare attention mechanisms* puts the models side by side on your own sentence."
)


@dataclass
class Series:
    """One model's scores by source length: ``buckets`` (``"1-10"``, …, ``"41+"``) and,
    for each, ``n`` sentences, ``bleu`` and ``chrf``."""

    key: str
    attention: str
    test: str
    buckets: list[dict]


def series_of(models: dict[str, tuple[str, str | Path]]) -> list[Series]:
    """``{key: (attention kind, model folder)}`` → the models whose ``eval.json`` has
    ``by_length``, in the given order."""
    out = []
    for key, (attention, folder) in models.items():
        evaluation = read_evaluation(folder) or {}
        if evaluation.get("by_length"):
            out.append(Series(key, attention, evaluation["test"], evaluation["by_length"]))
    return out


def comparable(series: list[Series]) -> list[Series]:
    """The series to draw together: at least two, one with and one without attention,
    scored on the same test set with the same buckets (else none)."""
    setups = {(s.test, tuple(b["bucket"] for b in s.buckets)) for s in series}
    if len(series) < 2 or len(setups) > 1:
        return []
    kinds = {s.attention == "none" for s in series}
    return series if kinds == {True, False} else []


def table_markdown(series: list[Series]) -> str:
    """BLEU (and the sentences) per bucket, one column per model."""
    header = "| source words | sentences | " + " | ".join(s.key for s in series) + " |"
    lines = [header, "|---" * (len(series) + 2) + "|"]
    for i, bucket in enumerate(series[0].buckets):
        bleus = " | ".join(f"{s.buckets[i]['bleu']:.1f}" for s in series)
        lines.append(f"| {bucket['bucket']} | {bucket['n']} | {bleus} |")
    return "\n".join(lines)


def figure(series: list[Series]):
    """BLEU against source length, one line per model (dashed: no attention)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [b["bucket"] for b in series[0].buckets]
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=100)
    for s in series:
        style = "--" if s.attention == "none" else "-"
        ax.plot(
            labels,
            [b["bleu"] for b in s.buckets],
            style,
            marker="o",
            label=f"{s.key} ({attention_name(s.attention)})",
        )
    ax.set_xlabel("source sentence length (words)")
    ax.set_ylabel("BLEU")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"BLEU by source length on {Path(series[0].test).name}", fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m webapp.why_attention", description=__doc__)
    parser.add_argument("models", nargs="+", help="model folders with eval.json (--by-length)")
    parser.add_argument("--out", required=True, type=Path, help="PNG file to write")
    args = parser.parse_args(argv)
    models = {}
    for folder in args.models:
        spec, _ = read_config(folder)
        models[Path(folder).name] = (spec["config"]["model_config"]["attention"], folder)
    series = comparable(series_of(models))
    if not series:
        parser.error(
            "need two or more models, with and without attention, whose eval.json has "
            "by_length on the same test set (training.evaluate --by-length --output …)"
        )
    figure(series).savefig(args.out)
    print(table_markdown(series))


if __name__ == "__main__":
    main()
