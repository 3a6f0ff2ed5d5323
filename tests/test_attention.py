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
    # A padded position's value never leaks into the context: poison it, same context.
    poisoned = values.copy()
    poisoned[~mask] = 1e6
    context2, weights2 = layer(query, layer.precompute(poisoned), poisoned, mask)
    np.testing.assert_array_equal(np.asarray(weights2), weights)
    np.testing.assert_allclose(np.asarray(context2), context, rtol=1e-6, atol=1e-6)


def test_luong_dot_is_a_plain_dot_product_softmax():
    query, values, mask = inputs(seed=1)
    layer = LuongAttention("dot")
    _, weights = layer(query, layer.precompute(values), values, mask)
    scores = np.einsum("bd,bsd->bs", query, values)
    scores[~mask] = -np.inf
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(weights), expected, rtol=1e-5, atol=1e-7)


def softmax_where(scores, mask):
    scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_bahdanau_implements_its_formula():
    """e_j = v · tanh(W_a s + U_a h_j + b), α = softmax(e), c = Σ α_j h_j."""
    query, values, mask = inputs(seed=2)
    layer = BahdanauAttention(5)
    layer.build(query.shape, values_shape=values.shape)
    context, weights = layer(query, layer.precompute(values), values, mask)
    w_a = np.asarray(layer.query_dense.kernel)
    u_a, b = np.asarray(layer.key_dense.kernel), np.asarray(layer.key_dense.bias)
    v_a = np.asarray(layer.score_dense.kernel)[:, 0]
    e = np.tanh((query @ w_a)[:, None, :] + values @ u_a + b) @ v_a
    expected = softmax_where(e, mask)
    np.testing.assert_allclose(np.asarray(weights), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        np.asarray(context), np.einsum("bs,bsd->bd", expected, values), rtol=1e-5, atol=1e-6
    )


def test_luong_general_implements_its_formula():
    """score(h_t, h̄_s) = h_t · W_a h̄_s."""
    query, values, mask = inputs(seed=3)
    layer = LuongAttention("general", query_dim=8)
    layer.build(query.shape, values_shape=(None, None, 8))
    _, weights = layer(query, layer.precompute(values), values, mask)
    scores = np.einsum("bd,bsd->bs", query, values @ np.asarray(layer.key_dense.kernel))
    np.testing.assert_allclose(
        np.asarray(weights), softmax_where(scores, mask), rtol=1e-5, atol=1e-7
    )


@pytest.mark.parametrize(
    "layer, kernels",
    [
        (
            BahdanauAttention(5),
            {"query_dense": (8, 5), "key_dense": (12, 5), "score_dense": (5, 1)},
        ),
        (LuongAttention("general", query_dim=8), {"key_dense": (12, 8)}),
        (LuongAttention("dot"), {}),
    ],
    ids=["bahdanau", "luong_general", "luong_dot"],
)
def test_build_builds_every_sublayer(layer, kernels):
    """Query (batch, 8), values (batch, src_len, 12): each kernel takes its input's width."""
    layer.build((None, 8), values_shape=(None, None, 12))
    assert layer.built
    assert {name: tuple(getattr(layer, name).kernel.shape) for name in kernels} == kernels
    assert len(layer.weights) == len(kernels) + isinstance(layer, BahdanauAttention)  # + b


def test_masked_softmax_all_masked_row_is_finite():
    out = np.asarray(masked_softmax(np.zeros((1, 4), "float32"), np.zeros((1, 4), bool)))
    assert np.isfinite(out).all()


def test_config_round_trip():
    for layer in (BahdanauAttention(7, name="a"), LuongAttention("general", 9, name="b")):
        config = layer.get_config()
        assert {"name", "trainable", "dtype"} <= set(config)  # chained to keras.layers.Layer
        clone = type(layer).from_config(config)
        assert clone.get_config() == config


def test_bad_mode():
    with pytest.raises(ValueError, match="'dot' or 'general'"):
        LuongAttention("concat")
