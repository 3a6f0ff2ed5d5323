"""Attention layers: Bahdanau (additive) and Luong (dot, general).

Each layer splits its work in two so that a decoder pays for the encoder side once:
``precompute(values) -> keys`` runs once per source batch, ``call(query, keys, values,
mask) -> (context, weights)`` runs at every decoder step. Padding positions get weight
exactly 0 (their scores are pushed to a large negative number before the softmax).

Both follow the Keras layer contract: sublayers are created in ``__init__`` from the
constructor arguments and built by the layer's own ``build`` from the query and value
shapes; ``get_config`` extends ``super().get_config()``; the classes are registered, so a
saved model loads without ``custom_objects``.

References:
    Bahdanau, Cho, Bengio (2015). Neural Machine Translation by Jointly Learning to Align
    and Translate. ICLR 2015. arXiv:1409.0473.
    Luong, Pham, Manning (2015). Effective Approaches to Attention-based Neural Machine
    Translation. EMNLP 2015. arXiv:1508.04025.

Not for: the decoder loop itself (see :mod:`seq2seq.model`).
"""

from __future__ import annotations

import keras
from keras import ops

NEG_INF = -1e9


def masked_softmax(scores, mask):
    """Softmax over the last axis that ignores positions where ``mask`` is False, in
    float32 whatever the dtype of ``scores`` (bfloat16 under a mixed policy).

    Args:
        scores: ``(batch, src_len)`` float.
        mask: ``(batch, src_len)`` bool, True at real tokens.

    Returns:
        ``(batch, src_len)`` float32.
    """
    scores = ops.cast(scores, "float32")
    scores = ops.where(mask, scores, ops.full_like(scores, NEG_INF))
    return ops.softmax(scores, axis=-1)


def weighted_sum(weights, values):
    """Context ``Σ_j α_j h_j``: ``(batch, src_len)`` float32 weights, ``(batch, src_len,
    dim)`` values → ``(batch, dim)`` in the values' dtype."""
    return ops.einsum("bs,bsd->bd", ops.cast(weights, values.dtype), values)


@keras.saving.register_keras_serializable(package="seq2seq")
class BahdanauAttention(keras.layers.Layer):
    """Additive attention (Bahdanau et al. 2015, eqs. 5–6 and A.1.2).

    For a decoder state ``s`` and encoder outputs ``h_1 … h_S``::

        e_j = v_a · tanh(W_a s + U_a h_j + b)      score of source position j
        α   = softmax(e) over real (unpadded) j     weights, (batch, src_len)
        c   = Σ_j α_j h_j                           context, (batch, value_dim)

    ``U_a h_j + b`` does not depend on the decoder, so :meth:`precompute` computes it once
    per source batch (the keys). Bahdanau et al. score the *previous* decoder state
    ``s_{i-1}``; :class:`~seq2seq.model.Seq2Seq` passes the current one, as Luong et al.
    2015 do with this score (their "concat").

    Args:
        units: hidden size of the scoring MLP (the rows of ``W_a`` and ``U_a``).
        **kwargs: ``keras.layers.Layer`` arguments (``name``, ``dtype``…).

    Example:
        >>> att = BahdanauAttention(8)
        >>> att.build((None, 16), values_shape=(None, None, 32))
        >>> keys = att.precompute(values)                    # (batch, src_len, 8)
        >>> context, weights = att(query, keys, values, mask)
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        p = self.dtype_policy
        self.query_dense = keras.layers.Dense(units, use_bias=False, name="query", dtype=p)  # W_a
        self.key_dense = keras.layers.Dense(units, use_bias=True, name="key", dtype=p)  # U_a, b
        self.score_dense = keras.layers.Dense(1, use_bias=False, name="score", dtype=p)  # v_a

    def build(self, query_shape, keys_shape=None, values_shape=None, mask_shape=None):
        """Build ``W_a`` from the query width, ``U_a`` from the value width, and ``v_a``.

        Args:
            query_shape: ``(batch, query_dim)``.
            values_shape: ``(batch, src_len, value_dim)``; may be left out when
                :meth:`precompute` already ran (it builds ``U_a`` on first use).
        """
        self.query_dense.build(query_shape)
        if values_shape is not None and not self.key_dense.built:
            self.key_dense.build(values_shape)
        self.score_dense.build((None, None, self.units))
        self.built = True

    def precompute(self, values):
        """``(batch, src_len, value_dim)`` → keys ``U_a h + b``: ``(batch, src_len, units)``."""
        return self.key_dense(values)

    def energies(self, query, keys):
        """``e_j = v_a · tanh(W_a s + U_a h_j + b)``: query ``(batch, query_dim)``, keys
        ``(batch, src_len, units)`` → ``(batch, src_len)`` (before masking and softmax)."""
        q = ops.expand_dims(self.query_dense(query), 1)  # (batch, 1, units)
        return ops.squeeze(self.score_dense(ops.tanh(keys + q)), -1)

    def call(self, query, keys, values, mask):
        """Args: query ``(batch, query_dim)``, keys ``(batch, src_len, units)``,
        values ``(batch, src_len, value_dim)``, mask ``(batch, src_len)``.

        Returns: context ``(batch, value_dim)``, weights ``(batch, src_len)``.
        """
        weights = masked_softmax(self.energies(query, keys), mask)
        return weighted_sum(weights, values), weights

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="seq2seq")
class LuongAttention(keras.layers.Layer):
    """Multiplicative attention (Luong et al. 2015, section 3.1, eq. 8).

    For a decoder state ``h_t`` and encoder outputs ``h̄_1 … h̄_S``::

        score(h_t, h̄_s) = h_t · h̄_s          "dot"
        score(h_t, h̄_s) = h_t · W_a h̄_s      "general"
        a_t = softmax(score) over real s,    c_t = Σ_s a_t(s) h̄_s

    ``W_a h̄_s`` (or ``h̄_s`` itself for ``dot``) is computed once by :meth:`precompute`.
    The attentional vector ``tanh(W_c [c_t; h_t])`` is the model's, not this layer's.

    Args:
        mode: ``dot`` (query and values must have the same size) or ``general``.
        query_dim: size of the decoder state (the width ``W_a`` maps values to); needed
            by ``general``.
        **kwargs: ``keras.layers.Layer`` arguments (``name``, ``dtype``…).

    Example:
        >>> att = LuongAttention("general", query_dim=16)
        >>> att.build((None, 16), values_shape=(None, None, 32))
        >>> keys = att.precompute(values)                    # (batch, src_len, 16)
        >>> context, weights = att(query, keys, values, mask)
    """

    def __init__(self, mode: str = "general", query_dim: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("dot", "general"):
            raise ValueError(f"Luong attention mode must be 'dot' or 'general', got {mode!r}")
        if mode == "general" and not query_dim:
            raise ValueError("Luong 'general' attention needs query_dim")
        self.mode = mode
        self.query_dim = query_dim
        self.key_dense = (  # W_a
            keras.layers.Dense(query_dim, use_bias=False, name="key", dtype=self.dtype_policy)
            if mode == "general"
            else None
        )

    def build(self, query_shape, keys_shape=None, values_shape=None, mask_shape=None):
        """Build ``W_a`` (``general``) from ``values_shape`` ``(batch, src_len, value_dim)``."""
        key_dense = self.key_dense
        if key_dense is not None and values_shape is not None and not key_dense.built:
            key_dense.build(values_shape)
        self.built = True

    def precompute(self, values):
        """``(batch, src_len, value_dim)`` → keys ``(batch, src_len, query_dim)``."""
        return self.key_dense(values) if self.key_dense is not None else values

    def energies(self, query, keys):
        """``score(h_t, h̄_s)`` for every ``s``: ``(batch, query_dim)``, ``(batch, src_len,
        query_dim)`` → ``(batch, src_len)`` (before masking and softmax)."""
        return ops.einsum("bd,bsd->bs", query, keys)

    def call(self, query, keys, values, mask):
        """Same shapes as :meth:`BahdanauAttention.call`."""
        weights = masked_softmax(self.energies(query, keys), mask)
        return weighted_sum(weights, values), weights

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "query_dim": self.query_dim}


def make_attention(kind: str, attn_units: int, query_dim: int, dtype=None) -> keras.layers.Layer:
    """The attention layer named by ``ModelConfig.attention`` (``dtype``: its policy)."""
    if kind == "bahdanau":
        return BahdanauAttention(attn_units, name="attention", dtype=dtype)
    mode = kind.removeprefix("luong_")
    return LuongAttention(mode, query_dim=query_dim, name="attention", dtype=dtype)
