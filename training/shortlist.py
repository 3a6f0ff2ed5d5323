"""Build a model folder's lexical shortlist from its training corpus:
``python -m training.shortlist --model models/en-de --train training/data/en-de/train.tsv.gz``
(several ``--train`` files: a run's ``train`` and ``train_extra``).

Tokenizes the pairs with the model's own tokenizer (the direction comes from the model's
config: a model whose source is not English reads the (English, other) columns
reversed), counts co-occurrences (:func:`seq2seq.shortlist.build`) and writes
``shortlist.npz`` into the folder. Prints how often the reference's pieces of ``--dev``
fall inside the candidate set of their batch (its recall): a shortlist only
loses what is outside it. ``training.train`` builds one at the end of every run.

Not for: using a shortlist (see :mod:`seq2seq.shortlist` and :mod:`seq2seq.compiled`).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from seq2seq import bundle as bundle_lib
from seq2seq import shortlist as shortlist_lib
from training.readers import read_corpus

log = logging.getLogger("training.shortlist")


def encode_pairs(tokenizer, path: str, reverse: bool) -> tuple[list, list]:
    pairs, _ = read_corpus(path, reverse=reverse)
    src = tokenizer.encode_batch([p.src for p in pairs])
    tgt = tokenizer.encode_batch([p.tgt for p in pairs])
    return src, tgt


def recall(shortlist: shortlist_lib.Shortlist, sources, targets, rows: int = 64) -> float:
    """Share of reference pieces inside the candidate set of their batch of ``rows``
    consecutive sentences."""
    size = shortlist_lib.size_for(rows)
    hit = total = 0
    for i in range(0, len(sources), rows):
        ids = set(shortlist.ids(sources[i : i + rows], size).tolist())
        hit += sum(t in ids for tgt in targets[i : i + rows] for t in tgt)
        total += sum(len(tgt) for tgt in targets[i : i + rows])
    return hit / max(total, 1)


def build_for(folder: str | Path, train: str | list[str], dev: str | None = None) -> Path:
    """Build and write ``folder``'s shortlist from ``train`` (one corpus file or several);
    log the ``dev`` recall."""
    bundle = bundle_lib.load(folder)
    reverse = bundle.model.model_config.src_lang != "en"
    start = time.time()
    src, tgt = [], []
    for path in [train] if isinstance(train, str | Path) else train:
        more_src, more_tgt = encode_pairs(bundle.tokenizer, str(path), reverse)
        src += more_src
        tgt += more_tgt
    shortlist = shortlist_lib.build(src, tgt, bundle.tokenizer.vocab_size)
    path = shortlist.save(folder)
    log.info("shortlist: %d pairs, %.0f s, %s", len(src), time.time() - start, path)
    if dev:
        dev_src, dev_tgt = encode_pairs(bundle.tokenizer, dev, reverse)
        log.info("dev recall (batches of 64): %.4f", recall(shortlist, dev_src, dev_tgt))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder (written into)")
    parser.add_argument(
        "--train", required=True, nargs="+", help="training corpus files (TSV, .gz ok)"
    )
    parser.add_argument("--dev", help="also report the candidate recall on this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%X")
    build_for(args.model, args.train, args.dev)


if __name__ == "__main__":
    main()
