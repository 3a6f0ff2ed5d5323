"""Lexical shortlist: IBM-1 candidates, per-batch candidate sets, restricted decoding."""

import keras
import numpy as np
import pytest
from conftest import reverse_task

from seq2seq import bundle as bundle_lib
from seq2seq import compiled
from seq2seq.config import ModelConfig
from seq2seq.model import Seq2Seq
from seq2seq.options import DecodeOptions
from seq2seq.shortlist import SPECIALS, Shortlist, build
from seq2seq.tokenizer import EOS, PAD
from seq2seq.translator import Translator


def test_ibm1_finds_the_translation_of_each_piece():
    rng = np.random.default_rng(0)
    words = np.arange(10, 30)  # source word w translates to w + 100; 5..9 are noise
    sources, targets = [], []
    for _ in range(400):
        chosen = rng.choice(words, size=3, replace=False)
        noise = rng.integers(5, 10, size=2)
        sources.append([*chosen, *noise])
        targets.append([*(chosen + 100), *rng.integers(5, 10, size=2)])
    shortlist = build(sources, targets, vocab_size=200, per_source=3, n_frequent=5)
    for w in words:
        assert shortlist.candidates[w, 0] == w + 100
    assert set(shortlist.frequent) == {5, 6, 7, 8, 9}  # ~160 times each; words ~60
    assert (shortlist.candidates[:5] == -1).all()  # pieces never seen in a source


def test_candidate_set_order_size_and_padding():
    candidates = np.full((50, 3), -1, dtype=np.int32)
    candidates[10] = [20, 21, 22]
    candidates[11] = [30, 31, -1]
    shortlist = Shortlist(frequent=[40, 41], candidates=candidates)
    ids = shortlist.ids([[10, EOS], [11, 10]], size=9)
    # specials at their own index, frequent, then all first candidates, all second, …
    assert ids.tolist() == [0, 1, 2, 3, 40, 41, 20, 30, 21]
    padded = shortlist.ids([[11]], size=12)
    assert padded.tolist() == [0, 1, 2, 3, 40, 41, 30, 31, PAD, PAD, PAD, PAD]
    assert shortlist.ids([[10]], size=50).tolist() == list(range(50))


def test_step_over_a_shortlist_is_the_renormalised_full_step():
    keras.utils.set_random_seed(0)
    config = ModelConfig(vocab_size=40, emb_dim=8, enc_units=8, dec_units=16, attn_units=8)
    model = Seq2Seq(config)
    model.build()
    memory, mask, state = model.encode(np.array([[5, 6, 7, EOS], [8, 9, EOS, PAD]]))
    vocab = np.array([0, 1, 2, 3, 12, 30, 17, 25], dtype="int32")
    full, _, _ = model.step(np.array([12, 17]), state, memory, mask)
    short, _, _ = model.step(np.array([4, 6]), state, memory, mask, vocab=vocab)  # positions
    expected = keras.ops.log_softmax(keras.ops.take(full, vocab, axis=1), axis=-1)
    np.testing.assert_allclose(short, expected, atol=1e-5)


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return tiny_model_dir[0]


def test_training_writes_a_shortlist_the_translator_loads(tiny):
    bundle = bundle_lib.load(tiny)
    assert bundle.shortlist is not None
    assert bundle.shortlist.vocab_size == bundle.tokenizer.vocab_size
    digits = [bundle.tokenizer.encode(w)[0] for w in ("one", "two", "three")]
    for piece in digits:  # each digit's own piece is among its top translations
        assert piece in bundle.shortlist.candidates[piece, :2]


def test_large_batches_decode_inside_the_candidate_set(tiny, monkeypatch):
    sentences = [" ".join(p[0].split()) for p in reverse_task(20, seed=5)]
    full = Translator.load(tiny, batch_size=16, shortlist=False)
    assert full.search.shortlist is None
    options = DecodeOptions(beam_size=3)
    reference = [t.best for t in full.translate(sentences, options)]
    same = Translator.load(tiny, batch_size=16)  # set of 3,072 >= vocabulary: everything
    assert [t.best for t in same.translate(sentences, options)] == reference

    monkeypatch.setattr(compiled, "size_for", lambda rows: 24 if rows >= 16 else None)
    small = Translator.load(tiny, batch_size=16)
    seen = []
    original = small.search.shortlist.ids
    monkeypatch.setattr(
        small.search.shortlist, "ids", lambda s, n: seen.append(original(s, n)) or seen[-1]
    )
    results = small.translate(sentences, options)
    assert [len(ids) for ids in seen] == [24]  # 16 rows; the other 4 (bucket 4): all
    allowed = set(np.concatenate(seen).tolist())
    assert [r.best for r in results] == reference  # the digits' pieces are all in the set
    for r in results:
        for h in r.hypotheses:
            assert set(h.ids) <= allowed
    single = small.translate(sentences[:1], options)  # 1 row: the whole vocabulary
    assert len(seen) == 1 and single[0].best == reference[0]


def test_a_broken_shortlist_file_is_refused_naming_it(tiny, tmp_path):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny, folder)
    (folder / bundle_lib.SHORTLIST_FILE).write_bytes(b"not a zip")
    with pytest.raises(bundle_lib.BundleError, match="shortlist.npz: cannot be loaded"):
        bundle_lib.load(folder)
    Shortlist(np.array([4]), np.full((20, 2), 5)).save(folder)  # a 20-piece vocabulary
    with pytest.raises(bundle_lib.BundleError, match=r"does not match the vocabulary of \d+"):
        bundle_lib.load(folder)
    assert SPECIALS == EOS + 1


def test_beam_trees_are_never_shortlisted(tiny, monkeypatch):
    """A tree records token ids: its graph family scores the whole vocabulary."""
    sentences = [p[0] for p in reverse_task(16, seed=8)]
    options = DecodeOptions(beam_size=3)
    full = Translator.load(tiny, batch_size=16, shortlist=False)
    expected = [
        [n.token for n in r.tree.nodes] for r in full.translate(sentences, options, tree=True)
    ]
    monkeypatch.setattr(compiled, "size_for", lambda rows: 24 if rows >= 16 else None)
    small = Translator.load(tiny, batch_size=16)
    results = small.translate(sentences, options, tree=True)
    assert [[n.token for n in r.tree.nodes] for r in results] == expected
