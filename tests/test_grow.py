"""Warm starts that add encoder layers (training.grow)."""

import dataclasses

import numpy as np
import pytest

from seq2seq.config import ModelConfig
from seq2seq.model import Seq2Seq
from training.grow import SCALE, check_growth, grow


def built(config: ModelConfig, seed: int) -> Seq2Seq:
    import keras

    keras.utils.set_random_seed(seed)
    model = Seq2Seq(config)
    model.build()
    return model


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_an_added_layer_passes_the_encoder_output_through(cell):
    """Every weight of the smaller model is copied, and the grown encoder's output is the
    smaller one's, squashed (tanh for a GRU layer, tanh∘tanh for an LSTM layer), position by
    position and half by half (forward, backward)."""
    small = ModelConfig(
        vocab_size=40, emb_dim=8, enc_units=6, dec_units=12, attn_units=8, cell=cell
    )
    init = built(small, seed=1)
    model = built(dataclasses.replace(small, enc_layers=2), seed=2)
    assert grow(model, init) == 1
    for name in ("src_embedding", "bridge", "decoder_cell", "attention", "combine"):
        for a, b in zip(getattr(init, name).weights, getattr(model, name).weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())

    src = np.random.default_rng(0).integers(3, 40, size=(4, 9))
    src[:, -2:] = 0  # padding
    (_, values_init), _, _ = init.encode(src)
    (_, values_grown), _, _ = model.encode(src)
    squash = (
        (lambda x: np.tanh(SCALE * x)) if cell == "gru" else (lambda x: np.tanh(np.tanh(SCALE * x)))
    )
    expected = squash(np.asarray(values_init))
    mask = src != 0
    gap = np.abs(np.asarray(values_grown) - expected)[mask]
    assert gap.max() < 0.1, gap.max()
    swapped = np.concatenate([expected[..., 6:], expected[..., :6]], axis=-1)
    assert np.abs(np.asarray(values_grown) - swapped)[mask].max() > 3 * gap.max()


def test_a_folder_grows_by_encoder_layers_only():
    base = ModelConfig(vocab_size=40, emb_dim=8, enc_units=6, dec_units=12, attn_units=8)
    assert check_growth(base, dataclasses.replace(base, dropout=0.5), "m") == 0
    assert check_growth(base, dataclasses.replace(base, enc_layers=3), "m") == 2
    with pytest.raises(SystemExit, match="init_from m: .*changed: emb_dim, enc_units"):
        check_growth(base, dataclasses.replace(base, emb_dim=16, enc_units=8), "m")
    two = dataclasses.replace(base, enc_layers=2)
    with pytest.raises(SystemExit, match="changed: enc_layers"):
        check_growth(two, base, "m")
