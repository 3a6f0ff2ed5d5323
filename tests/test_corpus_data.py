"""The committed en-de corpus: disjoint splits, sizes, and counts that match SOURCES.md."""

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from training.readers import read_tsv

ROOT = Path(__file__).resolve().parents[1] / "training" / "data"
PAIRS = {  # pair: (minimum training pairs, sources)
    "en-de": (50_000, ["ding", "wesnoth", "libreoffice"]),
    "en-fr": (35_000, ["wesnoth", "libreoffice"]),
}


@pytest.fixture(scope="module", params=sorted(PAIRS))
def corpus(request):
    folder = ROOT / request.param
    splits = {name: read_tsv(folder / f"{name}.tsv.gz")[0] for name in ("train", "dev", "test")}
    return request.param, folder, splits


@pytest.fixture(scope="module")
def splits(corpus):
    return corpus[2]


def test_sizes(corpus):
    pair, _, splits = corpus
    minimum, sources = PAIRS[pair]
    assert len(splits["train"]) >= minimum
    assert len(splits["dev"]) >= 1500 and len(splits["test"]) >= 1500
    for name in ("dev", "test"):
        assert set(p.origin for p in splits[name]) == set(sources)


def test_no_english_sentence_of_dev_or_test_in_train(splits):
    train = {p.src.casefold() for p in splits["train"]}
    dev = {p.src.casefold() for p in splits["dev"]}
    test = {p.src.casefold() for p in splits["test"]}
    assert not (dev & train) and not (test & train) and not (dev & test)


def test_counts_match_sources_md_and_stats(corpus):
    pair, folder, splits = corpus
    stats = json.loads((folder / "stats.json").read_text())
    md = (folder / "SOURCES.md").read_text()
    header = re.search(r"^\| split \|(.*)\| total \|$", md, re.M).group(1)
    columns = [c.strip() for c in header.split("|")]
    assert sorted(columns) == sorted(PAIRS[pair][1])
    for name, pairs in splits.items():
        per_source = Counter(p.origin for p in pairs)
        assert stats["splits"][name] == {**per_source, "total": len(pairs)}
        row = re.search(rf"^\| {name} \|(.*)\|$", md, re.M).group(1)
        numbers = [int(x) for x in row.split("|")]
        assert numbers == [per_source[c] for c in columns] + [len(pairs)]


def test_pairs_are_clean(splits):
    from training.clean import reject_reason

    for pairs in splits.values():
        assert all(reject_reason(p.src, p.tgt) is None for p in pairs)
        assert len(set(pairs)) == len(pairs)


def test_files_are_reproducible_gzip(corpus):
    # mtime 0 in the gzip header: a rebuild with the same seed gives identical bytes.
    raw = (corpus[1] / "dev.tsv.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0"
    assert gzip.decompress(raw).decode("utf-8").count("\n") == 2000
