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


@pytest.mark.slow
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
        np.testing.assert_allclose(
            np.asarray(attention), np.asarray(forced_attention)[:, t], rtol=1e-5, atol=1e-6
        )


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


def tiny_model(attention="bahdanau", cell="gru"):
    tokenizer = Tokenizer.train(["one two three four five six"] * 30, vocab_size=280)
    model = Seq2Seq(tiny_config(vocab_size=tokenizer.vocab_size, attention=attention, cell=cell))
    model.build()
    return model, tokenizer


def assert_same_outputs(model, other, vocab):
    """Teacher-forced logits, one inference step and its attention: bit for bit."""
    src, tgt_in, _ = batch(3)
    src, tgt_in = src % vocab, tgt_in % vocab
    assert np.array_equal(np.asarray(model((src, tgt_in))), np.asarray(other((src, tgt_in))))
    m1, mask1, s1 = model.encode(src)
    m2, mask2, s2 = other.encode(src)
    lp1, _, a1 = model.step(tgt_in[:, 0], s1, m1, mask1)
    lp2, _, a2 = other.step(tgt_in[:, 0], s2, m2, mask2)
    assert np.array_equal(np.asarray(lp1), np.asarray(lp2))
    assert np.array_equal(np.asarray(a1), np.asarray(a2))


@pytest.mark.parametrize("attention, cell", [("bahdanau", "gru"), ("luong_general", "lstm")])
def test_save_load_gives_identical_outputs(tmp_path, attention, cell):
    model, tokenizer = tiny_model(attention, cell)
    bundle.save(tmp_path, model, tokenizer, {"note": "test", "direction": "xx-yy"})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.json",
        "metadata.json",
        "model.weights.h5",
        "tokenizer.model",
    ]
    loaded = bundle.load(tmp_path)
    assert_same_outputs(model, loaded.model, tokenizer.vocab_size)
    digest = bundle.weights_digest(tmp_path / "model.weights.h5")
    assert loaded.metadata == {
        "keras_version": keras.__version__,
        "seq2seq_format": 2,
        "tokenizer": "tokenizer.model",
        "direction": "en-de",
        "note": "test",
        "weights_sha256": digest,
    }
    assert loaded.model.model_config == model.model_config
    assert loaded.model.tokenizer is loaded.tokenizer
    config = json.loads((tmp_path / "config.json").read_text())
    keras_config = keras.saving.serialize_keras_object(model)  # what Keras writes, less
    keras_config.pop("compile_config")  # the optimizer, which a model folder never carries
    keras_config["config"].pop("dtype")  # and the precision, which the loader chooses
    assert config == keras_config
    assert "weights" not in json.dumps(config)  # no arrays, no pickles in the config


def test_keras_load_model_reads_a_model_folder_with_its_tokenizer(tmp_path):
    model, tokenizer = tiny_model()
    bundle.save(tmp_path, model, tokenizer)
    loaded = keras.saving.load_model(tmp_path)  # Keras itself, no custom_objects
    assert isinstance(loaded, Seq2Seq)
    assert loaded.tokenizer.model_proto == tokenizer.model_proto
    assert_same_outputs(model, loaded, tokenizer.vocab_size)


@pytest.mark.parametrize("target", ["model.keras", "folder"])
def test_keras_saving_carries_the_tokenizer_as_an_asset(tmp_path, target):
    model, tokenizer = tiny_model()
    model.tokenizer = tokenizer
    path = tmp_path / target
    keras.saving.save_model(model, path, zipped=target.endswith(".keras"))
    if target == "folder":
        assert (path / "assets" / "tokenizer.model").read_bytes() == tokenizer.model_proto
        assert bundle.load(path).tokenizer.model_proto == tokenizer.model_proto
    loaded = keras.saving.load_model(path)
    assert loaded.tokenizer.model_proto == tokenizer.model_proto
    assert_same_outputs(model, loaded, tokenizer.vocab_size)


def test_a_tokenizer_of_another_vocabulary_is_refused(tmp_path):
    model, tokenizer = tiny_model()
    bundle.save(tmp_path, model, tokenizer)
    other = Tokenizer.train(["alpha beta gamma delta epsilon"] * 30, vocab_size=300)
    assert other.vocab_size != tokenizer.vocab_size
    other.save(tmp_path)
    message = f"tokenizer.model: vocabulary of {other.vocab_size} pieces"
    with pytest.raises(ValueError, match=message):
        keras.saving.load_model(tmp_path)
    with pytest.raises(bundle.BundleError, match=message):
        bundle.load(tmp_path)


def write_old_layout(folder, model, tokenizer, metadata):
    """A folder as saved before metadata.json existed: config.json wraps the model."""
    bundle.save(folder, model, tokenizer)
    spec = json.loads((folder / "config.json").read_text())
    old = {
        "format_version": 1,
        "keras_version": keras.__version__,
        "model": spec,
        "metadata": metadata,
    }
    (folder / "config.json").write_text(json.dumps(old))
    (folder / "metadata.json").unlink()


def test_old_layout_loads_and_upgrades(tmp_path):
    model, tokenizer = tiny_model()
    write_old_layout(tmp_path, model, tokenizer, {"direction": "en-de", "parameters": 7})
    weights = (tmp_path / "model.weights.h5").read_bytes()
    with pytest.raises(ValueError):  # Keras cannot read the wrapper
        keras.saving.load_model(tmp_path)
    old = bundle.load(tmp_path)
    assert_same_outputs(model, old.model, tokenizer.vocab_size)
    assert old.metadata["seq2seq_format"] == 1 and old.metadata["parameters"] == 7

    assert bundle.upgrade(tmp_path) and not bundle.upgrade(tmp_path)
    assert (tmp_path / "model.weights.h5").read_bytes() == weights
    new = bundle.load(tmp_path)
    assert new.metadata == {**old.metadata, "seq2seq_format": 2}
    assert_same_outputs(model, keras.saving.load_model(tmp_path), tokenizer.vocab_size)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"keras_version": "2.15.0"}, "saved with Keras 2.15.0"),
        ({"seq2seq_format": 3}, "seq2seq_format 3 is newer"),
    ],
)
def test_folders_of_another_keras_or_a_newer_format_are_refused(tmp_path, change, message):
    model, tokenizer = tiny_model()
    bundle.save(tmp_path, model, tokenizer)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    (tmp_path / "metadata.json").write_text(json.dumps({**meta, **change}))
    with pytest.raises(bundle.BundleError, match=message):
        bundle.load(tmp_path)


def test_config_chains_to_keras_and_round_trips():
    model = Seq2Seq(tiny_config(), name="s2s", dtype="float32")
    config = model.get_config()
    assert {"name", "trainable", "dtype", "model_config"} <= set(config)
    clone = Seq2Seq.from_config(keras.saving.serialize_keras_object(model)["config"])
    assert clone.get_config() == config


def test_a_translator_for_a_keras_loaded_model():
    from seq2seq.translator import Translator

    model, tokenizer = tiny_model()
    with pytest.raises(ValueError, match="no tokenizer"):
        Translator.for_model(model)
    model.tokenizer = tokenizer
    expected = Translator(bundle.Bundle(model, tokenizer)).translate_texts(
        ["one two", "three"], beam_size=2
    )
    assert Translator.for_model(model).translate_texts(["one two", "three"], beam_size=2) == (
        expected
    )


def test_config_validation():
    with pytest.raises(ValueError, match="luong_dot"):
        ModelConfig(vocab_size=10, attention="luong_dot", enc_units=8, dec_units=32)
    with pytest.raises(ValueError, match="cell must be"):
        ModelConfig(vocab_size=10, cell="rnn")
    with pytest.raises(ValueError, match="unknown model config fields"):
        ModelConfig.from_dict({"vocab_size": 10, "layers": 3})


# --- mixed precision ---------------------------------------------------------------------


@pytest.mark.parametrize("attention, cell", [("bahdanau", "gru"), ("luong_general", "lstm")])
def test_mixed_bfloat16_trains_and_steps_with_float32_variables_and_scores(attention, cell):
    """Under ``mixed_bfloat16`` every layer computes in bfloat16 (the logits are bf16),
    the variables stay float32, and the loss, the attention weights and the step's
    log-probabilities are float32; one training step runs (the decoder's loop included)."""
    config = tiny_config(attention=attention, cell=cell)
    model = Seq2Seq(config, dtype="mixed_bfloat16")
    model.build()
    src, tgt_in, tgt_out = batch(4)
    dtype = keras.backend.standardize_dtype
    assert dtype(model((src, tgt_in)).dtype) == "bfloat16"
    assert {dtype(v.dtype) for v in model.weights} == {"float32"}
    memory, mask, state = model.encode(src)
    log_probs, state, attention_weights = model.step(tgt_in[:, 0], state, memory, mask)
    assert dtype(log_probs.dtype) == dtype(attention_weights.dtype) == "float32"
    np.testing.assert_allclose(np.exp(np.asarray(log_probs)).sum(-1), 1.0, atol=1e-3)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=MaskedCrossEntropy(0.1))
    loss = model.train_on_batch((src, tgt_in), tgt_out)
    assert np.isfinite(loss)


def test_saved_under_bfloat16_loads_under_either_precision(tmp_path):
    """A folder saved from a mixed-precision model names no precision and loads as asked;
    both give nearly the same log-probabilities (bf16 has 8 bits of mantissa)."""
    model, tokenizer = tiny_model()
    mixed = Seq2Seq(model.model_config, dtype="mixed_bfloat16")
    mixed.build()
    mixed.set_weights(model.get_weights())
    bundle.save(tmp_path, mixed, tokenizer)
    assert "dtype" not in json.loads((tmp_path / "config.json").read_text())["config"]
    fp32 = bundle.load(tmp_path).model
    bf16 = bundle.load(tmp_path, precision="mixed_bfloat16").model
    assert fp32.dtype_policy.name == "float32" and bf16.dtype_policy.name == "mixed_bfloat16"
    assert_same_outputs(model, fp32, tokenizer.vocab_size)
    src, tgt_in, _ = batch(3)
    src, tgt_in = src % tokenizer.vocab_size, tgt_in % tokenizer.vocab_size
    steps = []
    for m in (fp32, bf16):
        memory, mask, state = m.encode(src)
        steps.append(np.asarray(m.step(tgt_in[:, 0], state, memory, mask)[0]))
    np.testing.assert_allclose(steps[0], steps[1], atol=0.05)
    with pytest.raises(ValueError, match="precision must be one of float32, mixed_bfloat16"):
        bundle.load(tmp_path, precision="float16")


# --- no attention (the baseline of "Why attention?") ----------------------------------------


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_a_model_without_attention_trains_steps_as_it_is_taught_and_saves(tmp_path, cell):
    """``attention: none``: no attention weights exist, every attention row is zero, the
    decoder still sees the source (through its one fixed context), padding changes
    nothing, inference steps equal teacher forcing, training lowers the loss, and a saved
    folder gives identical outputs."""
    model, tokenizer = tiny_model(attention="none", cell=cell)
    assert not any("attention" in w.path.split("/") for w in model.weights)
    src, tgt_in, tgt = batch(5)
    src, tgt_in, tgt = (a % tokenizer.vocab_size for a in (src, tgt_in, tgt))
    logits = np.asarray(model((src, tgt_in)))
    other_src = np.where(src > EOS, (src + 1) % tokenizer.vocab_size, src).clip(min=EOS + 1)
    other_src = np.where(src <= EOS, src, other_src).astype("int32")
    assert not np.allclose(logits, np.asarray(model((other_src, tgt_in))), atol=1e-6)
    wider = np.concatenate([src, np.zeros((3, 4), "int32")], axis=1)
    np.testing.assert_allclose(logits, np.asarray(model((wider, tgt_in))), rtol=1e-5, atol=1e-5)
    _, forced_attention = model.teacher_force(src, tgt_in)
    assert not np.asarray(forced_attention).any()
    memory, mask, state = model.encode(src)
    for t in range(tgt_in.shape[1]):
        log_probs, state, attention = model.step(tgt_in[:, t], state, memory, mask)
        expected = logits[:, t] - np.log(np.exp(logits[:, t]).sum(-1, keepdims=True))
        np.testing.assert_allclose(np.asarray(log_probs), expected, rtol=1e-4, atol=1e-5)
        assert np.asarray(attention).shape == src.shape and not np.asarray(attention).any()

    bundle.save(tmp_path, model, tokenizer)
    assert_same_outputs(model, bundle.load(tmp_path).model, tokenizer.vocab_size)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=MaskedCrossEntropy(0.1))
    losses = [float(model.train_on_batch((src, tgt_in), tgt)) for _ in range(5)]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_a_model_without_attention_trains_under_mixed_bfloat16():
    model = Seq2Seq(tiny_config(attention="none"), dtype="mixed_bfloat16")
    model.build()
    src, tgt_in, tgt_out = batch(6)
    memory, mask, state = model.encode(src)
    log_probs, _, attention = model.step(tgt_in[:, 0], state, memory, mask)
    dtype = keras.backend.standardize_dtype
    assert dtype(log_probs.dtype) == dtype(attention.dtype) == "float32"
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=MaskedCrossEntropy(0.1))
    assert np.isfinite(model.train_on_batch((src, tgt_in), tgt_out))
