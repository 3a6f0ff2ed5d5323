"""The committed corpora: disjoint splits, sizes, and counts that match SOURCES.md."""

import gzip
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from training.corpus import provenance
from training.readers import read_tsv
from training.sources import SOURCES

ROOT = Path(__file__).resolve().parents[1] / "training" / "data"
PAIRS = {  # pair: (minimum training pairs, {split: sources})
    "en-de": (
        140_000,
        {
            "train": ["ding", "wesnoth", "libreoffice", "ddtp", "freeciv", "dict"]
            + ["cdda", "warzone", "crawl"],
            "dev-v1": ["ding", "wesnoth", "libreoffice"],
            "test-v1": ["ding", "wesnoth", "libreoffice"],
            "dev-v2": ["ddtp", "freeciv"],
            "test-v2": ["ddtp", "freeciv"],
        },
    ),
    "en-fr": (
        100_000,
        {
            "train": ["wesnoth", "libreoffice", "ddtp", "freeciv", "cdda", "warzone", "crawl"],
            "dev-v1": ["wesnoth", "libreoffice"],
            "test-v1": ["wesnoth", "libreoffice"],
            "dev-v2": ["ddtp", "freeciv"],
            "test-v2": ["ddtp", "freeciv"],
        },
    ),
    "en-zh": (
        80_000,
        {
            "train": [
                "wesnoth",
                "libreoffice",
                "ddtp",
                "freeciv",
                "cdda",
                "warzone",
                "crawl",
                "cedict",
            ],
            "dev-v1": ["wesnoth", "libreoffice", "ddtp", "freeciv"],
            "test-v1": ["wesnoth", "libreoffice", "ddtp", "freeciv"],
            "dev-v2": ["cdda"],
            "test-v2": ["cdda"],
        },
    ),
}
# Pairs in each of dev-v1 and test-v1 (en-zh's were drawn from all four sources, at least
# 200 from each).
V1_SIZE = {"en-de": 2000, "en-fr": 2000, "en-zh": 2151}
# The first corpus' held-out sets never change (sha256 of the gzip bytes).
FROZEN_SHA256 = {
    ("en-de", "dev-v1"): "333ceb87038ccff642e6e9cf4d6e97d8a6f8c1b8fe3b9531e4c0e05512327a84",
    ("en-de", "test-v1"): "740beecea6cfa93370f721a6793f1341df2da898fc248f1bb79e6cc593789df9",
    ("en-fr", "dev-v1"): "eddd67d3d610cf903334765c3a3265699dcad30358065ed458e591c2444daea3",
    ("en-fr", "test-v1"): "86eec07a393a9f01e1eb54ca6871202a98687dd6b5b9aaca28f859efa342389d",
    # en-zh's references were redrawn once, with full-width punctuation after Chinese
    # characters (training.clean.chinese_punctuation), before any model was scored on them.
    ("en-zh", "dev-v1"): "72304c9e51a8eae8a4c05a4c33427085dc3bd72a209524b357da73fee56cdf33",
    ("en-zh", "test-v1"): "5db74231b60ba33f7c7642242f1f67b6e9a47b4bec21488e1b580f4f608c6cf7",
    # The second held-out sets, likewise (a supplementary training file adds nothing to them).
    ("en-de", "dev-v2"): "758f3c44c326657b87449c96e85b4fd33fa8ba14b15a30b5b75dee38a9877d30",
    ("en-de", "test-v2"): "4f7f432597b54406e46cc7ad7e6ddd8a420f3ee6ebc167137aef72231ba95fc2",
    ("en-fr", "dev-v2"): "6954406c6acb9990e2b3e247bdee0c95579eed0c22d1e7429ad3e8afe5815b52",
    ("en-fr", "test-v2"): "ba1b88bba05f87f095ee2399113ce0d645534ce8023c37290570f1a97a489819",
    ("en-zh", "dev-v2"): "984426eebb01312832ec818b70383553140df74c28f6a576102f32aaddc42529",
    ("en-zh", "test-v2"): "d2f3cef4be3930682681af84e221770dfa8747c10bcd93ea53bfd9e274ca5273",
    # The first en-de corpus' training split: models/en-de and models/en-de-luong.
    ("en-de-v1", "train"): "22085d0dc315e04644783746068b01486d65f196fc2995adfe724815e6f28a0e",
}

# Supplementary training files (``python -m training.corpus extra``): {pair: {file: sources}}.
SUPPLEMENTS = {
    "en-de": {"train-everyday": ["auf_deutsch"]},
    "en-zh": {"train-everyday": ["chinesevocablist", "hsk_sentences"]},
    "en-fr": {
        "train-everyday": ["freedict", "tuxpaint_stamps"],
        "train-casual": ["fillets", "gcompris_words"],
    },
}
# Held-out everyday slices drawn by `training.corpus extra --hold-out` (training.everyday).
EVERYDAY_SLICES = {"en-zh": {"dev-everyday": 500, "test-everyday": 500}}


@pytest.fixture(scope="module", params=sorted(PAIRS))
def corpus(request):
    folder = ROOT / request.param
    splits = {name: read_tsv(folder / f"{name}.tsv.gz")[0] for name in PAIRS[request.param][1]}
    return request.param, folder, splits


@pytest.fixture(scope="module")
def splits(corpus):
    return corpus[2]


def test_sizes(corpus):
    pair, _, splits = corpus
    minimum, sources = PAIRS[pair]
    assert len(splits["train"]) >= minimum
    assert len(splits["dev-v1"]) == len(splits["test-v1"]) == V1_SIZE[pair]
    for name, pairs in splits.items():
        assert set(p.origin for p in pairs) == set(sources[name])
        if name.endswith("-v2"):
            assert len(pairs) >= 500


def test_files_on_disk_are_the_ones_listed():
    for pair, (_, sources) in PAIRS.items():
        on_disk = {p.name.removesuffix(".tsv.gz") for p in (ROOT / pair).glob("*.tsv.gz")}
        assert on_disk == set(sources) | set(SUPPLEMENTS.get(pair, {})) | set(
            EVERYDAY_SLICES.get(pair, {})
        )
        stats = {p.name.removesuffix(".json") for p in (ROOT / pair).glob("train-*.json")}
        assert stats == set(SUPPLEMENTS.get(pair, {}))


def test_no_english_sentence_shared_between_splits(splits):
    # Case-folded English sides: no held-out sentence (v1 or v2) in train or in another
    # held-out file.
    keys = {name: {p.src.casefold() for p in pairs} for name, pairs in splits.items()}
    names = sorted(keys)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not (keys[a] & keys[b]), (a, b)


def test_counts_match_sources_md_and_stats(corpus):
    pair, folder, splits = corpus
    stats = json.loads((folder / "stats.json").read_text())
    md = (folder / "SOURCES.md").read_text()
    header = re.search(r"^\| split \|(.*)\| total \|$", md, re.M).group(1)
    columns = [c.strip() for c in header.split("|")]
    assert sorted(columns) == sorted(PAIRS[pair][1]["train"])
    assert sorted(stats["splits"]) == sorted(splits)
    for name, pairs in splits.items():
        per_source = Counter(p.origin for p in pairs)
        assert stats["splits"][name] == {**per_source, "total": len(pairs)}
        row = re.search(rf"^\| {name} \|(.*)\|$", md, re.M).group(1)
        numbers = [int(x) for x in row.split("|")]
        assert numbers == [per_source[c] for c in columns] + [len(pairs)]
    # The sources nothing is held out from are named as such, and only those.
    named = re.search(r"Nothing is held out from (.*?) \(", md)
    held = {p.origin for name, pairs in splits.items() if name != "train" for p in pairs}
    training_only = set(columns) - held
    assert set(re.findall(r"`(\w+)`", named.group(1)) if named else []) == training_only


def test_pairs_are_clean(corpus):
    from training.clean import reject_reason

    pair, _, splits = corpus
    lang = pair.split("-")[1]
    for pairs in splits.values():
        assert all(reject_reason(p.src, p.tgt, lang) is None for p in pairs)
        assert len(set(pairs)) == len(pairs)


def test_files_are_reproducible_gzip(corpus):
    # mtime 0 in the gzip header: a rebuild with the same seed gives identical bytes.
    pair, folder, splits = corpus
    for name in splits:
        raw = (folder / f"{name}.tsv.gz").read_bytes()
        assert raw[4:8] == b"\0\0\0\0"
        assert len(raw) < 10_000_000
    raw = (folder / "dev-v1.tsv.gz").read_bytes()
    assert gzip.decompress(raw).decode("utf-8").count("\n") == V1_SIZE[pair]


def test_frozen_held_out_files_are_unchanged(corpus):
    pair, folder, _ = corpus
    for name in ("dev-v1", "test-v1", "dev-v2", "test-v2"):
        data = (folder / f"{name}.tsv.gz").read_bytes()
        assert hashlib.sha256(data).hexdigest() == FROZEN_SHA256[(pair, name)]


def test_first_training_split_is_frozen_and_apart_from_held_out_files():
    folder = ROOT / "en-de-v1"
    data = (folder / "train.tsv.gz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == FROZEN_SHA256[("en-de-v1", "train")]
    train = read_tsv(folder / "train.tsv.gz")[0]
    assert Counter(p.origin for p in train) == {
        "libreoffice": 30261,
        "ding": 18146,
        "wesnoth": 12912,
    }
    assert "| total | | | 61,319 |" in (folder / "SOURCES.md").read_text()
    # No stats.json beside it: a model trained on it records its sources from the file.
    sources = provenance(folder / "train.tsv.gz")
    assert {k: v["train_pairs"] for k, v in sources.items()} == Counter(p.origin for p in train)
    assert sources["libreoffice"]["license"] == "MPL-2.0"
    english = {p.src.casefold() for p in train}
    for name in PAIRS["en-de"][1]:
        if name != "train":
            held_out = read_tsv(ROOT / "en-de" / f"{name}.tsv.gz")[0]
            assert not english & {p.src.casefold() for p in held_out}, name


# pair: (dictionary source, an everyday entry it must hold, most pairs it may give)
DICTIONARIES = {
    "en-de": ("dict", ("train station", "Bahnhof"), 40_000),
    "en-zh": ("cedict", ("train station", "火车站"), 20_000),
}


def test_everyday_words_are_in_the_dictionary_pairs(corpus):
    pair, _, splits = corpus
    if pair not in DICTIONARIES:
        pytest.skip("this pair has no dictionary source")
    source, entry, most = DICTIONARIES[pair]
    pairs = {(p.src, p.tgt) for p in splits["train"] if p.origin == source}
    assert entry in pairs
    assert len(pairs) <= most


def test_no_source_uses_text_reserved_for_evaluation():
    # GNOME documentation and Widelands are reserved for outside evaluation.
    from training.sources import SOURCES

    texts = [ROOT.joinpath(pair, "SOURCES.md").read_text() for pair in [*PAIRS, "en-de-v1"]]
    for s in SOURCES.values():
        texts += [s.name, s.description, s.license, *s.packages, *s.apt_lists]
    for text in texts:
        assert not re.search(r"gnome|widelands", text, re.I), text


def test_chinese_is_simplified_chinese_only():
    # Built from zh_CN catalogues, the zh-cn help and the zh_CN DDTP file, never zh_TW/HK;
    # characters that only Traditional Chinese uses are all but absent.
    folder = ROOT / "en-zh"
    text = (folder / "SOURCES.md").read_text() + (folder / "stats.json").read_text()
    assert "libreoffice-help-zh-cn" in text and "Translation-zh%5fCN" in text
    assert not re.search(r"zh[-_%5f]*(tw|hk|hant)", text, re.I)
    traditional, simplified = (
        "們這說個來時會為與開關選擇檔體發對點經過後",
        "们这说个来时会为与开关选择档体发对点经过后",
    )
    counts = Counter()
    for name in PAIRS["en-zh"][1]:
        for p in read_tsv(folder / f"{name}.tsv.gz")[0]:
            counts.update(c for c in p.tgt if c in traditional + simplified)
    assert sum(counts[c] for c in simplified) > 50_000
    assert sum(counts[c] for c in traditional) * 1000 < sum(counts[c] for c in simplified)


@pytest.mark.parametrize("pair,name", [(p, n) for p in SUPPLEMENTS for n in SUPPLEMENTS[p]])
def test_supplementary_files_are_clean_and_apart_from_every_held_out_file(pair, name):
    from training.clean import reject_reason
    from training.sources import SOURCES

    folder = ROOT / pair
    raw = (folder / f"{name}.tsv.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # reproducible gzip
    pairs = read_tsv(folder / f"{name}.tsv.gz")[0]
    counts = Counter(p.origin for p in pairs)
    assert sorted(counts) == sorted(SUPPLEMENTS[pair][name])
    assert all(SOURCES[s].supplement for s in counts)
    # Never in dev or test: no English sentence (case-folded) of any held-out file.
    english = {p.src.casefold() for p in pairs}
    for held in [*folder.glob("dev-*.tsv.gz"), *folder.glob("test-*.tsv.gz")]:
        assert not english & {p.src.casefold() for p in read_tsv(held)[0]}, held.name
    lang = pair.split("-")[1]
    assert all(reject_reason(p.src, p.tgt, lang) is None for p in pairs)
    assert len(set(pairs)) == len(pairs)
    # The counts in its stats and in SOURCES.md are the file's.
    stats = json.loads((folder / f"{name}.json").read_text())
    assert stats["file"] == f"{name}.tsv.gz"
    assert stats["pairs"] == {**counts, "total": len(pairs)}
    for source, n in counts.items():
        assert (
            stats["cleaning"][source]["kept"] - stats["cleaning"][source].get("in_dev_or_test", 0)
            == n
        )
    md = (folder / "SOURCES.md").read_text()
    section = md.split("## Supplementary training files", 1)[1]
    assert f"### `{name}.tsv.gz`" in section
    own = section.split(f"### `{name}.tsv.gz`", 1)[1].split("\n### ", 1)[0]
    assert stats["command"] in own
    written = re.search(r"^\| written \|(.*)\|$", own, re.M).group(1)
    assert [int(x) for x in written.split("|")] == [counts[s] for s in stats["cleaning"]]


@pytest.mark.parametrize("pair", sorted(EVERYDAY_SLICES))
def test_everyday_slices_are_everyday_and_apart_from_all_training_text(pair):
    from training.everyday import is_everyday

    folder = ROOT / pair
    slices = {name: read_tsv(folder / f"{name}.tsv.gz")[0] for name in EVERYDAY_SLICES[pair]}
    training = read_tsv(folder / "train.tsv.gz")[0]
    for extra in SUPPLEMENTS[pair]:
        training += read_tsv(folder / f"{extra}.tsv.gz")[0]
    trained = {p.src.casefold() for p in training}
    seen = set()
    for name, pairs in slices.items():
        assert len(pairs) == EVERYDAY_SLICES[pair][name]
        assert (folder / f"{name}.tsv.gz").read_bytes()[4:8] == b"\0\0\0\0"
        english = {p.src.casefold() for p in pairs}
        assert len(english) == len(pairs) and not english & seen and not english & trained
        seen |= english
        assert all(is_everyday(p.src) for p in pairs)
        origins = {p.origin for p in pairs}
        assert origins <= set(next(iter(SUPPLEMENTS[pair].values())))
        assert all(SOURCES[o].held_out for o in origins), origins  # never hsk, auf_deutsch


def test_everyday_sentences_are_there_and_chinese_is_simplified():
    everyday = {
        pair: {(p.src, p.tgt) for p in read_tsv(ROOT / pair / "train-everyday.tsv.gz")[0]}
        for pair in SUPPLEMENTS
    }
    assert ("Where's the nearest subway station?", "最近的地铁站在哪里？") in everyday["en-zh"]
    assert ("A coffee, please.", "Einen Kaffee, bitte.") in everyday["en-de"]
    # Sentences of the held-out everyday set are not (training/data/en-de/everyday.tsv).
    assert not any(en == "Where is the train station?" for en, _ in everyday["en-de"])
    # The phrasebook's learner notes are gone from both sides.
    assert not any(
        re.search(r"\((?:casual|formal|simpler)", en + de) for en, de in everyday["en-de"]
    )
    traditional, simplified = (
        "們這說個來時會為與開關選擇檔體發對點經過後",
        "们这说个来时会为与开关选择档体发对点经过后",
    )
    text = "".join(zh for _, zh in everyday["en-zh"])
    assert sum(text.count(c) for c in simplified) > 500
    assert sum(text.count(c) for c in traditional) * 100 < sum(text.count(c) for c in simplified)
