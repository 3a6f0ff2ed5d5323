"""The model: shapes, masks, every variant trains a step, save→load gives identical outputs."""

import json

import keras
import numpy as np
import pytest

from seq2seq import bundle
from seq2seq.config import ModelConfig
from seq2seq.model import MaskedCrossEntropy, Seq2Seq
from seq2seq.tokenizer import BOS, EOS, PAD, Tokenizer

VARIANTS = [(a, c) for a in ("bahdanau", "luong_dot", "luong_general") for c in ("gru", "lstm")]


def tiny_config(**kw):
    base = dict(vocab_size=40, emb_dim=8, enc_units=8, dec_units=16, attn_units=8, dropout=0.1)
    return ModelConfig(**{**base, **kw})


def batch(seed=0):
    rng = np.random.default_rng(seed)
    src = rng.integers(4, 40, size=(3, 7)).astype("int32")
    src[1, 4:] = PAD
    src[2, 2:] = PAD
    src[np.arange(3), [6, 3, 1]] = EOS
    tgt = rng.integers(4, 40, size=(3, 5)).astype("int32")
    tgt_in = np.concatenate([np.full((3, 1), BOS), tgt[:, :-1]], axis=1).astype("int32")
    return src, tgt_in, tgt


@pytest.mark.parametrize("attention, cell", VARIANTS)
def test_variant_trains_a_step_and_masks_padding(attention, cell):
    model = Seq2Seq(tiny_config(attention=attention, cell=cell))
    model.build()
    src, tgt_in, tgt = batch()
    logits = np.asarray(model((src, tgt_in)))
    assert logits.shape == (3, 5, 40)
    _, weights = model.teacher_force(src, tgt_in)
    weights = np.asarray(weights)  # (batch, tgt_len, src_len)
    mask = src != PAD
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    assert (weights * ~mask[:, None, :] == 0).all()

    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=MaskedCrossEntropy(0.1))
    before = [w.copy() for w in model.get_weights()]
    losses = [float(model.train_on_batch((src, tgt_in), tgt)) for _ in range(5)]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_step_matches_teacher_forcing():
    """Inference steps and teacher forcing run the same cell: same attention and logits."""
    model = Seq2Seq(tiny_config(dropout=0.0))
    model.build()
    src, tgt_in, _ = batch(1)
    logits = np.asarray(model((src, tgt_in)))
    _, forced_attention = model.teacher_force(src, tgt_in)
    memory, mask, state = model.encode(src)
    for t in range(tgt_in.shape[1]):
        log_probs, state, attention = model.step(tgt_in[:, t], state, memory, mask)
        expected = logits[:, t] - np.log(np.exp(logits[:, t]).sum(-1, keepdims=True))
        np.testing.assert_allclose(np.asarray(log_probs), expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.asarray(attention), np.asarray(forced_attention)[:, t],
                                   rtol=1e-5, atol=1e-6)  # fmt: skip


def test_padding_does_not_change_outputs():
    model = Seq2Seq(tiny_config(dropout=0.0))
    model.build()
    src, tgt_in, _ = batch(2)
    wider = np.concatenate([src, np.zeros((3, 5), "int32")], axis=1)
    a = np.asarray(model((src, tgt_in)))
    b = np.asarray(model((wider, tgt_in)))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_loss_ignores_padding():
    loss = MaskedCrossEntropy()
    logits = np.random.default_rng(0).normal(size=(2, 3, 10)).astype("float32")
    y = np.array([[4, 5, PAD], [6, PAD, PAD]])
    full = float(loss(y, logits))
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -(log_p[0, 0, 4] + log_p[0, 1, 5] + log_p[1, 0, 6]) / 3
    np.testing.assert_allclose(full, expected, rtol=1e-5)


@pytest.mark.parametrize("attention, cell", [("bahdanau", "gru"), ("luong_general", "lstm")])
def test_save_load_gives_identical_outputs(tmp_path, attention, cell):
    tokenizer = Tokenizer.train(["one two three four five six"] * 30, vocab_size=280)
    model = Seq2Seq(tiny_config(vocab_size=tokenizer.vocab_size, attention=attention, cell=cell))
    model.build()
    bundle.save(tmp_path, model, tokenizer, {"note": "test"})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.json", "model.weights.h5", "tokenizer.model"
    ]  # fmt: skip
    loaded = bundle.load(tmp_path)
    src, tgt_in, _ = batch(3)
    src, tgt_in = src % tokenizer.vocab_size, tgt_in % tokenizer.vocab_size
    assert (
        np.abs(np.asarray(model((src, tgt_in))) - np.asarray(loaded.model((src, tgt_in)))).max()
        == 0
    )
    m1, mask1, s1 = model.encode(src)
    m2, mask2, s2 = loaded.model.encode(src)
    lp1, _, a1 = model.step(tgt_in[:, 0], s1, m1, mask1)
    lp2, _, a2 = loaded.model.step(tgt_in[:, 0], s2, m2, mask2)
    assert np.abs(np.asarray(lp1) - np.asarray(lp2)).max() == 0
    assert np.abs(np.asarray(a1) - np.asarray(a2)).max() == 0
    assert loaded.metadata == {"note": "test"}
    assert loaded.model.model_config == model.model_config
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model"]["class_name"] == "Seq2Seq"
    assert "weights" not in json.dumps(config)  # no arrays, no pickles in the config


def test_config_validation():
    with pytest.raises(ValueError, match="luong_dot"):
        ModelConfig(vocab_size=10, attention="luong_dot", enc_units=8, dec_units=32)
    with pytest.raises(ValueError, match="cell must be"):
        ModelConfig(vocab_size=10, cell="rnn")
    with pytest.raises(ValueError, match="unknown model config fields"):
        ModelConfig.from_dict({"vocab_size": 10, "layers": 3})
