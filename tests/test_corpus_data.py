"""The committed en-de corpus: disjoint splits, sizes, and counts that match SOURCES.md."""

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from training.readers import read_tsv

DATA = Path(__file__).resolve().parents[1] / "training" / "data" / "en-de"


@pytest.fixture(scope="module")
def splits():
    return {name: read_tsv(DATA / f"{name}.tsv.gz")[0] for name in ("train", "dev", "test")}


def test_sizes(splits):
    assert len(splits["train"]) >= 50_000
    assert len(splits["dev"]) >= 1500 and len(splits["test"]) >= 1500
    for name in ("dev", "test"):
        assert set(p.origin for p in splits[name]) == {"ding", "wesnoth", "libreoffice"}


def test_no_english_sentence_of_dev_or_test_in_train(splits):
    train = {p.src.casefold() for p in splits["train"]}
    dev = {p.src.casefold() for p in splits["dev"]}
    test = {p.src.casefold() for p in splits["test"]}
    assert not (dev & train) and not (test & train) and not (dev & test)


def test_counts_match_sources_md_and_stats(splits):
    stats = json.loads((DATA / "stats.json").read_text())
    md = (DATA / "SOURCES.md").read_text()
    for name, pairs in splits.items():
        per_source = Counter(p.origin for p in pairs)
        assert stats["splits"][name] == {**per_source, "total": len(pairs)}
        row = re.search(rf"^\| {name} \|(.*)\|$", md, re.M).group(1)
        numbers = [int(x) for x in row.split("|")]
        assert numbers == [
            per_source["ding"],
            per_source["wesnoth"],
            per_source["libreoffice"],
            len(pairs),
        ]


def test_pairs_are_clean(splits):
    from training.clean import reject_reason

    for pairs in splits.values():
        assert all(reject_reason(p.src, p.tgt) is None for p in pairs)
        assert len(set(pairs)) == len(pairs)


def test_files_are_reproducible_gzip():
    # mtime 0 in the gzip header: a rebuild with the same seed gives identical bytes.
    raw = (DATA / "dev.tsv.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0"
    assert gzip.decompress(raw).decode("utf-8").count("\n") == 2000
