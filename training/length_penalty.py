"""Choose a model's length penalty on a dev split:
``python -m training.length_penalty --model models/en-zh --dev training/data/en-zh/dev-v1.tsv.gz
[--alphas 0.6,0.8,1.0,1.2,1.4] [--metric mean|chrf|bleu] [--write]``.

Translates the dev split once per GNMT alpha (beam search, ``--beam-size``), scores each
with ``training.evaluate`` and prints a table. The default metric is the mean of BLEU and
chrF: chrF alone weighs recall double (β = 2) and so rewards long outputs (on en-de's dev
split α 1.4 had the best chrF, by 0.01 over α 1.2, and 0.9 BLEU less); BLEU alone has the
opposite bias through its brevity penalty's cliff. ``--write`` records the best alpha in the
folder's ``metadata.json`` (``decoding``: ``length_penalty`` and ``chosen_on``, which
names the split, the metric and every alpha's score); the translator, the CLI, evaluation
and the app then use it wherever no length penalty is given (see
:meth:`seq2seq.options.DecodeOptions.for_model`). A tie goes to the alpha listed first.

Choose on a dev split only: the test split is for reporting the chosen model.

Not for: scoring a model (see :mod:`training.evaluate`).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from seq2seq import bundle
from seq2seq.cli import load_translator_or_exit
from seq2seq.options import DecodeOptions
from training.evaluate import MAX_INPUT_CHARS, MAX_SENTENCE_TOKENS, evaluate

ALPHAS = (0.6, 0.8, 1.0, 1.2, 1.4)
METRICS = ("mean", "chrf", "bleu")
METRIC_NAMES = {"mean": "mean of BLEU and chrF", "chrf": "chrF", "bleu": "BLEU"}


def sweep(translator, dev: str, alphas, beam_size: int = 5) -> dict[float, dict]:
    """``training.evaluate``'s result on ``dev`` for each alpha."""
    return {a: evaluate(translator, dev, beam_size, length_penalty=a) for a in alphas}


def value(result: dict, metric: str) -> float:
    """``metric`` of one ``training.evaluate`` result (``mean``: of BLEU and chrF)."""
    return (result["bleu"] + result["chrf"]) / 2 if metric == "mean" else result[metric]


def choose(results: dict[float, dict], metric: str) -> float:
    """The alpha of the best ``metric`` (the first listed, on a tie)."""
    return max(results, key=lambda a: value(results[a], metric))


def chosen_on(dev: str, metric: str, beam_size: int, results: dict[float, dict]) -> str:
    """How the alpha was chosen: ``dev-v1.tsv.gz, best mean of BLEU and chrF, beam 5
    (BLEU / chrF: α 0.6 32.43 / 55.37, α 1.2 32.74 / 55.9)``."""
    scores = ", ".join(f"α {a:g} {r['bleu']} / {r['chrf']}" for a, r in results.items())
    return (
        f"{Path(dev).name}, best {METRIC_NAMES[metric]}, beam {beam_size} (BLEU / chrF: {scores})"
    )


def _alphas(text: str) -> list[float]:
    try:
        alphas = [DecodeOptions(length_penalty=float(x)).length_penalty for x in text.split(",")]
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).replace("length_penalty", "each alpha")) from None
    if len(set(alphas)) != len(alphas):
        raise argparse.ArgumentTypeError(f"alphas repeat: {text}")
    return alphas


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m training.length_penalty", description=__doc__)
    parser.add_argument("--model", required=True, help="model folder")
    parser.add_argument("--dev", required=True, help="dev split, TSV(.gz) or SRC_FILE,TGT_FILE")
    parser.add_argument(
        "--alphas",
        type=_alphas,
        default=list(ALPHAS),
        help="comma-separated GNMT alphas (default %(default)s)",
    )
    parser.add_argument("--metric", choices=METRICS, default="mean")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument(
        "--write", action="store_true", help="record the best alpha in the folder's metadata.json"
    )
    args = parser.parse_args(argv)
    try:
        DecodeOptions(beam_size=args.beam_size)
    except ValueError as e:
        parser.error(f"--beam-size {str(e).split(' ', 1)[1]}")
    if args.write and not (Path(args.model) / bundle.METADATA_FILE).is_file():
        parser.error(f"--write needs a local model folder; {args.model} has no metadata.json")
    logging.basicConfig(level=logging.WARNING)
    translator = load_translator_or_exit(  # as training.evaluate scores: whole vocabulary
        args.model,
        max_sentence_tokens=MAX_SENTENCE_TOKENS,
        max_input_chars=MAX_INPUT_CHARS,
        shortlist=False,
    )
    results = sweep(translator, args.dev, args.alphas, args.beam_size)
    best = choose(results, args.metric)
    for a, r in results.items():
        mark = "  ← best" if a == best else ""
        print(f"α {a:4.2f}  BLEU {r['bleu']:6.2f}  chrF {r['chrf']:6.2f}{mark}")
    if args.write:
        how = chosen_on(args.dev, args.metric, args.beam_size, results)
        bundle.update_metadata(args.model, decoding={"length_penalty": best, "chosen_on": how})
        print(f"{args.model}: length penalty {best:g} ({how})")


if __name__ == "__main__":
    main()
