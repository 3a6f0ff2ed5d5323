"""Everyday sentences: ``python -m benchmarks.everyday --model models/en-de``.

Translates the short everyday sentences of ``training/data/PAIR/everyday.tsv`` (greetings,
directions, shopping, time, ...; written for this project, with references: en-de, en-fr
and en-zh, the last one's BLEU on sacreBLEU's ``zh`` tokens; see training/data/EVERYDAY.md)
and prints corpus BLEU and chrF with their sacreBLEU signatures, then a table of source / output /
reference per sentence. ``--json FILE`` writes the same. A benchmark, not a test:
it asserts nothing.

Not for: the test-split scores of a model (``training.evaluate``), decoding speed
(``benchmarks.decode_speed``).
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import sacrebleu  # noqa: E402

from seq2seq.translator import Translator  # noqa: E402
from training.evaluate import bleu_tokenize  # noqa: E402


def load_pairs(path: str) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8") as f:
        return [tuple(line.rstrip("\n").split("\t")) for line in f if line.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.everyday", description=__doc__)
    parser.add_argument("--model", default="models/en-de")
    parser.add_argument(
        "--data",
        help="default: training/data/PAIR/everyday.tsv of the model's pair (English first); "
        "a model into English (de-en) reads its columns reversed, as training.evaluate does",
    )
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--length-penalty", type=float, help="default: the model's own")
    parser.add_argument("--json", metavar="FILE", help="also write scores and rows here")
    args = parser.parse_args(argv)

    translator = Translator.load(args.model)
    config = translator.model.model_config
    pair = "-".join(sorted((config.src_lang, config.tgt_lang), key=lambda lang: lang != "en"))
    args.data = args.data or f"training/data/{pair}/everyday.tsv"
    sources, references = map(list, zip(*load_pairs(args.data)))
    if config.src_lang != "en":
        sources, references = references, sources
    options = translator.default_options.replace(beam_size=args.beam_size)
    options = options.with_length_penalty(args.length_penalty)
    outputs = translator.translate_texts(sources, options)
    bleu = sacrebleu.metrics.BLEU(tokenize=bleu_tokenize(translator.model.model_config.tgt_lang))
    chrf = sacrebleu.metrics.CHRF()
    result = {
        "model": args.model,
        "data": args.data,
        "beam_size": args.beam_size,
        "length_penalty": options.length_penalty,
        "sentences": len(sources),
        "bleu": round(bleu.corpus_score(outputs, [references]).score, 2),
        "bleu_signature": str(bleu.get_signature()),
        "chrf": round(chrf.corpus_score(outputs, [references]).score, 2),
        "chrf_signature": str(chrf.get_signature()),
        "rows": [
            {"source": s, "output": o, "reference": r}
            for s, o, r in zip(sources, outputs, references)
        ],
    }
    print(
        f"{args.model} on {args.data} ({len(sources)} sentences, beam {args.beam_size}, "
        f"α {options.length_penalty:g})"
    )
    print(f"BLEU {result['bleu']:6.2f}  {result['bleu_signature']}")
    print(f"chrF {result['chrf']:6.2f}  {result['chrf_signature']}")
    print()
    print("| source | output | reference |")
    print("|---|---|---|")
    for row in result["rows"]:
        print(f"| {row['source']} | {row['output']} | {row['reference']} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=False, indent=2)


if __name__ == "__main__":
    main()
