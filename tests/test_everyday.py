"""Everyday check: the shipped en-de model translates every sentence of
``tests/data/everyday.tsv`` (a smoke test; BLEU/chrF are printed by
``python -m benchmarks.everyday``, never asserted)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "everyday.tsv"


def load_pairs():
    lines = DATA.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines]


@pytest.fixture(scope="module")
def translator():
    from seq2seq.translator import Translator

    return Translator.load(ROOT / "models" / "en-de")


def test_everyday_file_is_well_formed():
    pairs = load_pairs()
    assert len(pairs) >= 40
    assert all(len(pair) == 2 and all(side.strip() for side in pair) for pair in pairs)
    sources = [source.strip().casefold() for source, _ in pairs]
    assert len(set(sources)) == len(sources), "duplicate English sentences"
    assert ("Where is the train station?", "Wo ist der Bahnhof?") in pairs


def test_every_everyday_sentence_is_translated(translator):
    sources = [source for source, _ in load_pairs()]
    outputs = translator.translate_texts(sources, beam_size=5)
    assert len(outputs) == len(sources)
    empty = [s for s, o in zip(sources, outputs) if not o.strip()]
    assert not empty, f"no translation for {empty}"
