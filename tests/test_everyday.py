"""Everyday check: the shipped en-de, en-fr and en-zh models translate every sentence of their
pair's ``training/data/PAIR/everyday.tsv`` (a smoke test; BLEU/chrF are printed by
``python -m benchmarks.everyday``, never asserted), none of which is in any training file."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = {pair: f"{pair}/everyday.tsv" for pair in ("en-de", "en-fr", "en-zh")}
EXPECTED = {
    "en-de": ("Where is the train station?", "Wo ist der Bahnhof?"),
    "en-fr": ("The cat is sleeping on the sofa.", "Le chat dort sur le canapé."),
    "en-zh": ("Tom loves playing football.", "汤姆喜欢踢足球。"),
}


def load_pairs(direction):
    lines = (ROOT / "training" / "data" / DATA[direction]).read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines]


@pytest.mark.parametrize("direction", DATA)
def test_everyday_file_is_well_formed_and_in_no_corpus(direction):
    import gzip

    pairs = load_pairs(direction)
    assert len(pairs) >= 40
    assert all(len(pair) == 2 and all(side.strip() for side in pair) for pair in pairs)
    sources = [source.strip().casefold() for source, _ in pairs]
    assert len(set(sources)) == len(sources), "duplicate English sentences"
    assert EXPECTED[direction] in pairs
    for corpus in (ROOT / "training" / "data" / direction).glob("*.tsv.gz"):
        with gzip.open(corpus, "rt", encoding="utf-8") as f:
            seen = {line.split("\t")[0].strip().casefold() for line in f}
        assert not seen & set(sources), f"in {corpus.name}: {sorted(seen & set(sources))}"


@pytest.mark.slow
@pytest.mark.parametrize("direction", DATA)
def test_every_everyday_sentence_is_translated(direction):
    from seq2seq.translator import Translator

    translator = Translator.load(ROOT / "models" / direction)
    sources = [source for source, _ in load_pairs(direction)]
    outputs = translator.translate_texts(sources, beam_size=5)
    assert len(outputs) == len(sources)
    empty = [s for s, o in zip(sources, outputs) if not o.strip()]
    assert not empty, f"no translation for {empty}"
