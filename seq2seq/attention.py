"""Attention layers: Bahdanau (additive) and Luong (dot, general).

Each layer splits its work in two so that a decoder pays for the encoder side once:
``precompute(values) -> keys`` runs once per source batch, ``call(query, keys, values,
mask) -> (context, weights)`` runs at every decoder step. Padding positions get weight
exactly 0 (their scores are pushed to a large negative number before the softmax).

Not for: the decoder loop itself (see :mod:`seq2seq.model`).
"""

from __future__ import annotations

import keras
from keras import ops

NEG_INF = -1e9


def masked_softmax(scores, mask):
    """Softmax over the last axis that ignores positions where ``mask`` is False.

    Args:
        scores: ``(batch, src_len)`` float.
        mask: ``(batch, src_len)`` bool, True at real tokens.
    """
    scores = ops.where(mask, scores, ops.full_like(scores, NEG_INF))
    return ops.softmax(scores, axis=-1)


@keras.saving.register_keras_serializable(package="seq2seq")
class BahdanauAttention(keras.layers.Layer):
    """Additive attention: ``score(s, h) = v · tanh(W_q s + W_k h + b)``.

    Args:
        units: hidden size of the scoring MLP.

    Example:
        >>> att = BahdanauAttention(8)
        >>> keys = att.precompute(values)                    # (batch, src_len, 8)
        >>> context, weights = att(query, keys, values, mask)
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.query_dense = keras.layers.Dense(units, use_bias=False, name="query")
        self.key_dense = keras.layers.Dense(units, use_bias=True, name="key")
        self.score_dense = keras.layers.Dense(1, use_bias=False, name="score")

    def build(self, query_shape, keys_shape=None, values_shape=None, mask_shape=None):
        self.query_dense.build(query_shape)
        self.score_dense.build((None, None, self.units))
        self.built = True

    def precompute(self, values):
        """``(batch, src_len, value_dim)`` → keys ``(batch, src_len, units)``."""
        return self.key_dense(values)

    def call(self, query, keys, values, mask):
        """Args: query ``(batch, query_dim)``, keys ``(batch, src_len, units)``,
        values ``(batch, src_len, value_dim)``, mask ``(batch, src_len)``.

        Returns: context ``(batch, value_dim)``, weights ``(batch, src_len)``.
        """
        q = ops.expand_dims(self.query_dense(query), 1)  # (batch, 1, units)
        scores = ops.squeeze(self.score_dense(ops.tanh(keys + q)), -1)  # (batch, src_len)
        weights = masked_softmax(scores, mask)
        context = ops.einsum("bs,bsd->bd", weights, values)
        return context, weights

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="seq2seq")
class LuongAttention(keras.layers.Layer):
    """Multiplicative attention: ``dot``: ``s · h``; ``general``: ``s · W h``.

    Args:
        mode: ``dot`` (query and values must have the same size) or ``general``.
        query_dim: size of the decoder state (the width ``W`` maps values to).
    """

    def __init__(self, mode: str = "general", query_dim: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("dot", "general"):
            raise ValueError(f"Luong attention mode must be 'dot' or 'general', got {mode!r}")
        if mode == "general" and not query_dim:
            raise ValueError("Luong 'general' attention needs query_dim")
        self.mode = mode
        self.query_dim = query_dim
        self.key_dense = (
            keras.layers.Dense(query_dim, use_bias=False, name="key") if mode == "general" else None
        )

    def build(self, query_shape, keys_shape=None, values_shape=None, mask_shape=None):
        self.built = True

    def precompute(self, values):
        """``(batch, src_len, value_dim)`` → keys ``(batch, src_len, query_dim)``."""
        return self.key_dense(values) if self.key_dense is not None else values

    def call(self, query, keys, values, mask):
        """Same shapes as :meth:`BahdanauAttention.call`."""
        scores = ops.einsum("bd,bsd->bs", query, keys)  # (batch, src_len)
        weights = masked_softmax(scores, mask)
        context = ops.einsum("bs,bsd->bd", weights, values)
        return context, weights

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "query_dim": self.query_dim}


def make_attention(kind: str, attn_units: int, query_dim: int) -> keras.layers.Layer:
    """The attention layer named by ``ModelConfig.attention``."""
    if kind == "bahdanau":
        return BahdanauAttention(attn_units, name="attention")
    return LuongAttention(kind.removeprefix("luong_"), query_dim=query_dim, name="attention")
