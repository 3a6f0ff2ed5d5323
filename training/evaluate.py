"""Score a model folder on a test set with sacreBLEU:
``python -m training.evaluate --model models/en-de --test training/data/en-de/test-v1.tsv.gz``.

Prints corpus BLEU and chrF with their sacreBLEU signatures (detokenized output, default
13a tokenization; sacreBLEU's ``zh`` tokenizer for a Chinese target), and the same per
source when the test file has an origin column.
``--json`` prints one JSON object instead; ``--output FILE`` also writes it (the shipped
models keep theirs as ``eval.json``). ``--by-length`` also scores each source-length bucket
(words: 1-10, 11-20, 21-30, 31-40, 41+, a bucket of fewer than 100 sentences merged into its
neighbour), as ``"by_length": [{"bucket": "1-10", "n": …, "bleu": …, "chrf": …}, …]``.
The direction comes from the model's config: a model whose source is not English reads the
(English, other) columns reversed.

No test line stops the run: the translator runs with a higher sentence cap than the app's
(``--max-sentence-tokens``, 1,024 by default; widths past 200 run in ad-hoc graphs), and a
line that still cannot be translated scores as an empty hypothesis, named on stderr and
counted in the JSON (``failed``). The JSON also counts the test lines the app would refuse
(``over_app_caps``: a sentence over 200 subword tokens, a text over 2,000 characters).

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

from seq2seq.cli import add_loading_arguments, load_translator_or_exit
from seq2seq.options import MAX_SENTENCE_TOKENS as LIBRARY_MAX_SENTENCE_TOKENS
from seq2seq.options import DecodeOptions
from seq2seq.translator import Translator, split_sentences
from training.everyday import is_everyday
from training.readers import CorpusFormatError, read_corpus
from webapp.limits import MAX_INPUT_CHARS as APP_MAX_INPUT_CHARS

MAX_SENTENCE_TOKENS = 1024  # evaluation's own cap: no test sentence comes near it
MAX_INPUT_CHARS = 100_000
LENGTH_EDGES = (10, 20, 30, 40)  # source words: buckets 1-10, 11-20, 21-30, 31-40, 41+
MIN_BUCKET = 100  # sentences; a smaller bucket is merged into its neighbour


def bleu_tokenize(lang: str) -> str:
    """sacreBLEU's tokenizer for a target language: ``zh`` for Chinese (words are not
    separated by spaces, so 13a would score whole sentences as single words), else its
    default ``13a``."""
    return "zh" if lang == "zh" else "13a"


def score(hypotheses: list[str], references: list[str], lang: str = "en") -> dict:
    """Corpus BLEU (tokenized for the target ``lang``) and chrF, with signatures."""
    bleu = sacrebleu.metrics.BLEU(tokenize=bleu_tokenize(lang))
    chrf = sacrebleu.metrics.CHRF()
    b, c = bleu.corpus_score(hypotheses, [references]), chrf.corpus_score(hypotheses, [references])
    return {
        "bleu": round(b.score, 2),
        "chrf": round(c.score, 2),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "sentences": len(references),
    }


def source_words(text: str, lang: str) -> int:
    """The length of a source sentence in words (whitespace-separated; for Chinese, which
    separates none, its characters)."""
    return len("".join(text.split())) if lang == "zh" else len(text.split())


def length_buckets(lengths: list[int], edges=LENGTH_EDGES, min_size=MIN_BUCKET):
    """``[(low, high), ...]`` (``high`` None: no upper bound) covering every length, from
    the buckets ``0-edges[0]`` (shown as ``1-…``), ``edges[0]+1-edges[1]``, …,
    ``edges[-1]+1+``: from the longest down, a bucket of fewer than ``min_size`` of
    ``lengths`` joins the next shorter one (then a too-small first bucket joins the next
    longer one), so each bucket reported holds at least ``min_size`` (unless all of them
    together hold fewer).

    Example: ``edges=(10, 20)``, 500 lengths of 1-10, 200 of 11-20 and 30 over 20 →
    (0, 10), (11, None)."""
    bounds = (
        [(0, edges[0])] + [(a + 1, b) for a, b in zip(edges, edges[1:])] + [(edges[-1] + 1, None)]
    )

    def size(b):
        return sum(1 for n in lengths if n >= b[0] and (b[1] is None or n <= b[1]))

    i = len(bounds) - 1
    while i > 0:
        if size(bounds[i]) < min_size:
            bounds[i - 1 : i + 1] = [(bounds[i - 1][0], bounds[i][1])]
        i -= 1
    while len(bounds) > 1 and size(bounds[0]) < min_size:
        bounds[0:2] = [(bounds[0][0], bounds[1][1])]
    return bounds


def by_length(sources: list[str], hypotheses, references, src_lang: str, tgt_lang: str):
    """BLEU and chrF per source-length bucket (see :func:`length_buckets`): ``[{"bucket":
    "1-10", "n": ..., "bleu": ..., "chrf": ...}, ...]``; the ``n`` add up to the test's
    size."""
    lengths = [source_words(s, src_lang) for s in sources]
    out = []
    for low, high in length_buckets(lengths):
        rows = [
            (h, r)
            for n, h, r in zip(lengths, hypotheses, references)
            if n >= low and (high is None or n <= high)
        ]
        scores = score(*map(list, zip(*rows)), tgt_lang)
        label = f"{max(low, 1)}-{high}" if high is not None else f"{max(low, 1)}+"
        out.append(
            {"bucket": label, "n": len(rows), "bleu": scores["bleu"], "chrf": scores["chrf"]}
        )
    return out


def over_app_caps(translator: Translator, texts: list[str]) -> dict:
    """How many ``texts`` the app would refuse: a sentence over its token cap, or more
    characters than its text cap (``lines`` counts a text over either once)."""
    sentences = [(i, s) for i, t in enumerate(texts) for s in split_sentences(t) or [t]]
    ids = translator.tokenizer.encode_batch([s for _, s in sentences])
    too_many_tokens = {
        i for (i, _), x in zip(sentences, ids) if len(x) + 1 > LIBRARY_MAX_SENTENCE_TOKENS
    }  # + 1: the EOS the translator appends
    too_long = {i for i, t in enumerate(texts) if len(t) > APP_MAX_INPUT_CHARS}
    return {
        "sentence_tokens": len(too_many_tokens),
        "chars": len(too_long),
        "lines": len(too_many_tokens | too_long),
        "max_sentence_tokens": LIBRARY_MAX_SENTENCE_TOKENS,
        "max_input_chars": APP_MAX_INPUT_CHARS,
    }


def translate_all(translator: Translator, texts: list[str], options: DecodeOptions):
    """Best translation of each text and ``{index: error}`` for those that failed (their
    hypothesis is ``""``). One call for all texts (the batches of the shipped scores);
    if it raises, each text again on its own, so that one bad text costs only itself."""
    hypotheses, failures = [""] * len(texts), {}
    fits = [i for i, t in enumerate(texts) if len(t) <= translator.max_input_chars]
    for i in sorted(set(range(len(texts))) - set(fits)):
        failures[i] = f"{len(texts[i])} characters; the limit is {translator.max_input_chars}"
    try:
        found = translator.translate([texts[i] for i in fits], options, errors="empty")
    except Exception as e:  # the last resort: find the texts that fail
        logging.warning("translating all at once failed (%s); one text at a time", e)
        found = []
        for i in fits:
            try:
                found += translator.translate([texts[i]], options, errors="empty")
            except Exception as e:
                failures[i] = f"{type(e).__name__}: {e}"
                found.append(None)
    for i, translation in zip(fits, found):
        if translation is None:
            continue
        if translation.error:
            failures[i] = translation.error
        hypotheses[i] = translation.best
    return hypotheses, failures


def evaluate(
    translator: Translator,
    test: str,
    beam_size: int = 5,
    limit: int | None = None,
    length_penalty: float | None = None,
    lengths: bool = False,
    everyday: bool = False,
):
    """Translate ``test`` and score it; returns a JSON-able dict (``lengths``: with the
    scores per source-length bucket, ``by_length``; ``everyday``: only the pairs whose
    English is everyday, :func:`training.everyday.is_everyday`). A test line that cannot
    be translated scores as an empty hypothesis and is counted (``failed``) and listed
    (``failures``: test pair number, 1-based, and why). ``length_penalty`` None: the
    model's own default (:attr:`Translator.default_options`)."""
    options = translator.default_options.replace(beam_size=beam_size)
    options = options.with_length_penalty(length_penalty)
    src_lang, tgt_lang = translator.bundle.direction.split("-")
    pairs, report = read_corpus(test, reverse=src_lang != "en")
    if everyday:
        pairs = [p for p in pairs if is_everyday(p.src if src_lang == "en" else p.tgt)]
        if not pairs:
            raise CorpusFormatError(test, "no pair whose English is everyday")
    pairs = pairs[:limit] if limit else pairs
    sources = [p.src for p in pairs]
    start = time.time()
    hypotheses, failures = translate_all(translator, sources, options)
    seconds = time.time() - start
    for i, error in sorted(failures.items()):
        print(
            f"warning: test pair {i + 1} not translated (scored as empty): {error}", file=sys.stderr
        )
    result = {
        "model": translator.bundle.path,
        "model_source": translator.bundle.source,
        "direction": translator.bundle.direction,
        "test": test,
        "pairs": len(pairs),
        "everyday": everyday,
        "beam_size": beam_size,
        "length_penalty": options.length_penalty,
        "shortlist": translator.search.shortlist is not None,
        **score(hypotheses, [p.tgt for p in pairs], tgt_lang),
        "decode_seconds": round(seconds, 1),
        "max_sentence_tokens": translator.max_sentence_tokens,
        "over_app_caps": over_app_caps(translator, sources),
        "failed": len(failures),
    }
    if failures:
        result["failures"] = [
            {"pair": i + 1, "error": error} for i, error in sorted(failures.items())[:20]
        ]
    by_origin = defaultdict(list)
    for pair, hyp in zip(pairs, hypotheses):
        if pair.origin:
            by_origin[pair.origin].append((hyp, pair.tgt))
    if by_origin:
        result["per_source"] = {
            name: {
                k: v
                for k, v in score(*map(list, zip(*rows)), tgt_lang).items()
                if "signature" not in k
            }
            for name, rows in sorted(by_origin.items())
        }
    if lengths:
        references = [p.tgt for p in pairs]
        result["by_length"] = by_length(sources, hypotheses, references, src_lang, tgt_lang)
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
    parser.add_argument(
        "--length-penalty",
        type=float,
        help="GNMT alpha (default: the model's own, see seq2seq.options)",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--max-sentence-tokens",
        type=int,
        default=MAX_SENTENCE_TOKENS,
        help=f"longest sentence translated, subword tokens (default {MAX_SENTENCE_TOKENS}; "
        f"the app's is {LIBRARY_MAX_SENTENCE_TOKENS}); a longer one scores as empty",
    )
    parser.add_argument("--limit", type=int, help="only the first N test pairs")
    parser.add_argument(
        "--everyday",
        action="store_true",
        help="only the pairs whose English is everyday (training/everyday.py's rule: at most "
        "12 words, all among the 5,000 most frequent, no names)",
    )
    parser.add_argument(
        "--shortlist",
        action="store_true",
        help="score large batches over the model's lexical shortlist, as the CLI does "
        "(default: the whole vocabulary, the model's own score)",
    )
    parser.add_argument(
        "--by-length",
        action="store_true",
        help="also score each source-length bucket (1-10, 11-20, 21-30, 31-40, 41+ words; "
        f"fewer than {MIN_BUCKET} sentences: merged with a neighbour)",
    )
    add_loading_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--output", type=Path, help="also write the JSON to this file")
    args = parser.parse_args(argv)
    try:
        DecodeOptions(beam_size=args.beam_size, length_penalty=args.length_penalty or 0.0)
    except ValueError as e:  # "beam_size must be …" → "--beam-size must be …"
        field, rest = str(e).split(" ", 1)
        parser.error(f"--{field.replace('_', '-')} {rest}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.max_sentence_tokens < 2:
        parser.error(f"--max-sentence-tokens must be at least 2, got {args.max_sentence_tokens}")
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be at least 1, got {args.limit}")
    logging.basicConfig(level=logging.WARNING)
    translator = load_translator_or_exit(
        args.model,
        batch_size=args.batch_size,
        max_sentence_tokens=args.max_sentence_tokens,
        max_input_chars=MAX_INPUT_CHARS,
        shortlist=args.shortlist,
        precision=args.precision,
        cache_dir=args.cache_dir,
    )
    try:
        result = evaluate(
            translator,
            args.test,
            args.beam_size,
            args.limit,
            args.length_penalty,
            lengths=args.by_length,
            everyday=args.everyday,
        )
    except CorpusFormatError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    if args.output:
        args.output.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    if args.json:
        json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
        print()
        return
    print(
        f"{result['direction']}  {result['test']}"
        + (f" (its {result['pairs']} everyday pairs)" if args.everyday else "")
        + f"  beam {args.beam_size}  "
        f"length penalty {result['length_penalty']:g}"
    )
    print(f"BLEU {result['bleu']:6.2f}  {result['bleu_signature']}")
    print(f"chrF {result['chrf']:6.2f}  {result['chrf_signature']}")
    for name, s in result.get("per_source", {}).items():
        print(f"  {name:12s} BLEU {s['bleu']:6.2f}  chrF {s['chrf']:6.2f}  ({s['sentences']})")
    for b in result.get("by_length", []):
        print(
            f"  {b['bucket']:>6s} words  BLEU {b['bleu']:6.2f}  chrF {b['chrf']:6.2f}  ({b['n']})"
        )
    caps = result["over_app_caps"]
    if caps["lines"] or result["failed"]:
        print(
            f"{caps['lines']} test lines over the app's caps ({caps['sentence_tokens']} with a "
            f"sentence over {caps['max_sentence_tokens']} tokens, {caps['chars']} over "
            f"{caps['max_input_chars']} characters); {result['failed']} not translated",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
