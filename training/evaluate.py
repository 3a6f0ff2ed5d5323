"""Score a model folder on a test set with sacreBLEU:
``python -m training.evaluate --model models/en-de --test training/data/en-de/test-v1.tsv.gz``.

Prints corpus BLEU and chrF with their sacreBLEU signatures (detokenized output, default
13a tokenization), and the same per source when the test file has an origin column.
``--json`` prints one JSON object instead; ``--output FILE`` also writes it (the shipped
models keep theirs as ``eval.json``). The direction comes from the model's config: a
model whose source is not English reads the (English, other) columns reversed.

Not for: dev BLEU during training (see :mod:`training.train`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path

import sacrebleu

from seq2seq.hub import load_translator_or_exit
from seq2seq.translator import Translator
from training.readers import read_corpus


def score(hypotheses: list[str], references: list[str]) -> dict:
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    b, c = bleu.corpus_score(hypotheses, [references]), chrf.corpus_score(hypotheses, [references])
    return {
        "bleu": round(b.score, 2),
        "chrf": round(c.score, 2),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "sentences": len(references),
    }


def evaluate(translator: Translator, test: str, beam_size: int = 5, limit: int | None = None):
    """Translate ``test`` and score it; returns a JSON-able dict."""
    src_lang = translator.model.model_config.src_lang
    pairs, report = read_corpus(test, reverse=src_lang != "en")
    pairs = pairs[:limit] if limit else pairs
    start = time.time()
    hypotheses = translator.translate_texts([p.src for p in pairs], beam_size=beam_size)
    seconds = time.time() - start
    result = {
        "model": translator.bundle.path,
        "model_source": translator.bundle.source,
        "direction": translator.bundle.direction,
        "test": test,
        "beam_size": beam_size,
        **score(hypotheses, [p.tgt for p in pairs]),
        "decode_seconds": round(seconds, 1),
    }
    by_origin = defaultdict(list)
    for pair, hyp in zip(pairs, hypotheses):
        if pair.origin:
            by_origin[pair.origin].append((hyp, pair.tgt))
    if by_origin:
        result["per_source"] = {
            name: {k: v for k, v in score(*map(list, zip(*rows))).items() if "signature" not in k}
            for name, rows in sorted(by_origin.items())
        }
    result["examples"] = [
        {"source": p.src, "reference": p.tgt, "hypothesis": h}
        for p, h in list(zip(pairs, hypotheses))[:5]
    ]
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__)
    parser.add_argument("--model", required=True, help="model folder or USER/NAME[@REVISION]")
    parser.add_argument("--test", required=True, help="TSV(.gz) or SRC_FILE,TGT_FILE")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--limit", type=int, help="only the first N test pairs")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--output", type=Path, help="also write the JSON to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    translator = load_translator_or_exit(args.model, batch_size=args.batch_size)
    result = evaluate(translator, args.test, args.beam_size, args.limit)
    if args.output:
        args.output.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    if args.json:
        json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
        print()
        return
    print(f"{result['direction']}  {result['test']}  beam {args.beam_size}")
    print(f"BLEU {result['bleu']:6.2f}  {result['bleu_signature']}")
    print(f"chrF {result['chrf']:6.2f}  {result['chrf_signature']}")
    for name, s in result.get("per_source", {}).items():
        print(f"  {name:12s} BLEU {s['bleu']:6.2f}  chrF {s['chrf']:6.2f}  ({s['sentences']})")


if __name__ == "__main__":
    main()
