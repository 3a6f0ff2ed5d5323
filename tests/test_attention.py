"""Attention layers: weights sum to 1 over real tokens and are exactly 0 on padding."""

import numpy as np
import pytest

from seq2seq.attention import BahdanauAttention, LuongAttention, masked_softmax


def inputs(seed=0, batch=3, src=6, dim=8):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(batch, src, dim)).astype("float32")
    query = rng.normal(size=(batch, dim)).astype("float32")
    lengths = np.array([6, 3, 1])
    mask = np.arange(src)[None, :] < lengths[:, None]
    return query, values, mask


@pytest.mark.parametrize(
    "layer",
    [BahdanauAttention(5), LuongAttention("general", query_dim=8), LuongAttention("dot")],
    ids=["bahdanau", "luong_general", "luong_dot"],
)
def test_weights_are_a_distribution_over_real_tokens(layer):
    query, values, mask = inputs()
    keys = layer.precompute(values)
    context, weights = layer(query, keys, values, mask)
    weights, context = np.asarray(weights), np.asarray(context)
    assert weights.shape == (3, 6) and context.shape == (3, 8)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    assert (weights[~mask] == 0).all()
    assert (weights[mask] > 0).all()
    np.testing.assert_allclose(context, np.einsum("bs,bsd->bd", weights, values), rtol=1e-5)
    # A padded position's value never leaks into the context.
    poisoned = values.copy()
    poisoned[~mask] = 1e6
    context2, _ = (
        layer(query, layer.precompute(poisoned), poisoned, mask)
        if not isinstance(layer, LuongAttention) or layer.mode == "general"
        else layer(query, keys, poisoned, mask)
    )
    assert np.isfinite(np.asarray(context2)).all()


def test_luong_dot_is_scaled_dot_product_softmax():
    query, values, mask = inputs(seed=1)
    layer = LuongAttention("dot")
    _, weights = layer(query, layer.precompute(values), values, mask)
    scores = np.einsum("bd,bsd->bs", query, values)
    scores[~mask] = -np.inf
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(weights), expected, rtol=1e-5, atol=1e-7)


def test_masked_softmax_all_masked_row_is_finite():
    out = np.asarray(masked_softmax(np.zeros((1, 4), "float32"), np.zeros((1, 4), bool)))
    assert np.isfinite(out).all()


def test_config_round_trip():
    for layer in (BahdanauAttention(7, name="a"), LuongAttention("general", 9, name="b")):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_bad_mode():
    with pytest.raises(ValueError, match="'dot' or 'general'"):
        LuongAttention("concat")
