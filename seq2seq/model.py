"""The encoder–decoder with attention and input feeding, in Keras 3 ops only.

Embedding → n × bidirectional GRU/LSTM encoder → decoder RNN cell whose input is the
previous target embedding concatenated with the previous *attentional vector*
``tanh(W_c [s_t; c_t])`` (input feeding, Luong et al. 2015) → attention → output
projection (optionally tied to the target embedding).

With ``attention: none`` the context ``c_t`` is one fixed vector for the whole sentence,
the encoder's final forward and backward states (Cho et al. 2014: the decoder sees the
sentence's summary at every step, never the source words themselves); its step returns
all-zero attention rows. It exists to show what attention adds (``models/en-de-noattn``).

Two inference entry points drive any search (:mod:`seq2seq.search`):

- :meth:`Seq2Seq.encode` ``(src_ids) -> (memory, mask, state)`` once per batch;
- :meth:`Seq2Seq.step` ``(prev_token, state, memory, mask) -> (log_probs, state, attention)``.

Teacher-forced training (:meth:`Seq2Seq.call`) scans the same ``_decode`` function over the
target, so training and inference cannot drift apart. No backend-specific code: it runs on
TensorFlow (the default), JAX and PyTorch.

A model carries its SentencePiece tokenizer (``model.tokenizer``) as a Keras asset: Keras
saving writes it to ``assets/tokenizer.model``; loading reads it from there or, for a model
folder (:mod:`seq2seq.bundle`) or a Hub repo, from ``tokenizer.model`` beside
``config.json``. So after ``import seq2seq.model`` (which registers the classes)::

    model = keras.saving.load_model("hf://USER/NAME")   # or a model folder
    Translator.for_model(model).translate_texts(["Thank you very much."], beam_size=5)

(:class:`seq2seq.translator.Translator`; this module imports nothing that decodes).

Not for: search (see :mod:`seq2seq.search`), saving (see :mod:`seq2seq.bundle`).
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import ops

from seq2seq.attention import make_attention
from seq2seq.config import ModelConfig
from seq2seq.tokenizer import FILENAME as TOKENIZER_FILE
from seq2seq.tokenizer import PAD, Tokenizer

ASSETS_DIR = "assets"  # the folder Keras gives a model's save_assets / load_assets


@keras.saving.register_keras_serializable(package="seq2seq")
class OutputProjection(keras.layers.Layer):
    """Attentional vector → logits over the vocabulary.

    Args:
        vocab_size: number of output classes.
        emb_dim: width of the tied embedding table (used when ``tied``).
        tied: score against the embedding table passed to :meth:`call` (after a linear map
            to ``emb_dim``) instead of a separate ``(input_dim, vocab_size)`` matrix.
    """

    def __init__(self, vocab_size: int, emb_dim: int, tied: bool, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.emb_dim, self.tied = vocab_size, emb_dim, tied
        self.to_emb = (
            keras.layers.Dense(emb_dim, use_bias=False, name="to_emb", dtype=self.dtype_policy)
            if tied
            else None
        )

    def build(self, input_shape):
        if self.tied:
            self.to_emb.build(input_shape)
        else:
            self.kernel = self.add_weight(
                shape=(input_shape[-1], self.vocab_size),
                initializer="glorot_uniform",
                name="kernel",
            )
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")
        self.built = True

    def call(self, x, embeddings=None, ids=None):
        """``(..., input_dim)`` → ``(..., vocab_size)``; ``embeddings``: ``(vocab, emb_dim)``.
        With ``ids`` ``(n,)``: the logits of those classes only, ``(..., n)``."""
        bias = self.bias if ids is None else ops.take(self.bias, ids, axis=0)
        dtype = self.compute_dtype  # variables stay float32; a mixed policy computes in bf16
        bias = ops.cast(bias, dtype)
        if self.tied:
            table = embeddings if ids is None else ops.take(embeddings, ids, axis=0)
            return ops.matmul(self.to_emb(x), ops.transpose(ops.cast(table, dtype))) + bias
        kernel = self.kernel if ids is None else ops.take(self.kernel, ids, axis=1)
        return ops.matmul(x, ops.cast(kernel, dtype)) + bias

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "emb_dim": self.emb_dim,
            "tied": self.tied,
        }


@keras.saving.register_keras_serializable(package="seq2seq")
class Seq2Seq(keras.Model):
    """Attentional encoder–decoder.

    Args:
        model_config: a :class:`ModelConfig` or its dict.
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``…). ``dtype`` may be a
            mixed policy (``"mixed_bfloat16"``): every layer computes in its compute dtype
            and keeps its variables in float32, while the softmaxes (attention, output),
            the loss and the search's scores stay float32.

    Attributes:
        tokenizer: the :class:`~seq2seq.tokenizer.Tokenizer` of this model, or ``None``
            (set by loading, or by hand); needed by :meth:`translate` only.

    Example:
        >>> model = Seq2Seq(ModelConfig(vocab_size=100, emb_dim=16, enc_units=16, dec_units=32))
        >>> logits = model((src_ids, tgt_in_ids))           # (batch, tgt_len, 100)
        >>> memory, mask, state = model.encode(src_ids)
        >>> log_probs, state, attention = model.step(prev_ids, state, memory, mask)
    """

    def __init__(self, model_config: ModelConfig | dict, **kwargs):
        super().__init__(**kwargs)
        if isinstance(model_config, dict):
            model_config = ModelConfig.from_dict(model_config)
        self.model_config = c = model_config
        self.tokenizer: Tokenizer | None = None
        rnn = keras.layers.GRU if c.cell == "gru" else keras.layers.LSTM
        self.n_states = 1 if c.cell == "gru" else 2  # h, or (h, c)
        p = self.dtype_policy  # every sublayer computes as the model does

        self.src_embedding = keras.layers.Embedding(
            c.vocab_size, c.emb_dim, name="src_embedding", dtype=p
        )
        self.tgt_embedding = (
            self.src_embedding
            if c.share_embeddings
            else keras.layers.Embedding(c.vocab_size, c.emb_dim, name="tgt_embedding", dtype=p)
        )
        self.dropout = keras.layers.Dropout(c.dropout, name="dropout", dtype=p)
        self.encoder_rnns = [
            keras.layers.Bidirectional(
                rnn(c.enc_units, return_sequences=True, return_state=True, dtype=p),
                name=f"encoder_{i}",
                dtype=p,
            )
            for i in range(c.enc_layers)
        ]
        self.bridge = keras.layers.Dense(
            c.dec_units * self.n_states, "tanh", name="bridge", dtype=p
        )
        cell = keras.layers.GRUCell if c.cell == "gru" else keras.layers.LSTMCell
        self.decoder_cell = cell(c.dec_units, name="decoder_cell", dtype=p)
        self.attention = (  # None: a fixed context (see the module docstring)
            make_attention(c.attention, c.attn_units, c.dec_units, dtype=p)
            if c.has_attention
            else None
        )
        self.combine = keras.layers.Dense(
            c.dec_units, "tanh", use_bias=False, name="attentional", dtype=p
        )
        self.output_projection = OutputProjection(
            c.vocab_size, c.emb_dim, c.tie_output, name="output_projection", dtype=p
        )

    def build(self, input_shape=None):
        """Create every weight up front (no variable may be born inside a loop)."""
        c = self.model_config
        self.src_embedding.build((None, None))
        self.tgt_embedding.build((None, None))
        width = c.emb_dim
        for layer in self.encoder_rnns:
            layer.build((None, None, width))
            width = 2 * c.enc_units
        self.bridge.build((None, 2 * c.enc_units * self.n_states))
        self.decoder_cell.build((None, c.emb_dim + c.dec_units))
        if self.attention is not None:
            self.attention.build((None, c.dec_units), values_shape=(None, None, width))
        self.combine.build((None, c.dec_units + width))
        self.output_projection.build((None, c.dec_units))
        self.built = True

    # --- encoder ----------------------------------------------------------------

    def encode(self, src_ids, training=False):
        """Run the encoder once.

        Args:
            src_ids: ``(batch, src_len)`` int, EOS-terminated, right-padded with ``PAD``.

        Returns:
            memory: ``(keys, values)``: values ``(batch, src_len, 2*enc_units)``, keys the
                attention's precomputed projection of them, ``(batch, src_len, key_dim)``;
                without attention, keys are the fixed context ``(batch, 1, 2*enc_units)``
                (the last encoder layer's final forward and backward states).
            mask: ``(batch, src_len)`` bool, True at real tokens.
            state: list of ``(batch, dec_units)``: decoder RNN state(s) (bridged from the
                encoder's final states) and the initial attentional vector (zeros).
        """
        mask = ops.not_equal(src_ids, PAD)
        x = self.dropout(self.src_embedding(src_ids), training=training)
        finals = None
        for i, layer in enumerate(self.encoder_rnns):
            out = layer(x, mask=mask, training=training)
            x, finals = out[0], out[1:]  # finals: fwd state(s) then bwd state(s)
            if i < len(self.encoder_rnns) - 1:
                x = self.dropout(x, training=training)
        fwd, bwd = finals[: self.n_states], finals[self.n_states :]
        bridged = self.bridge(ops.concatenate([*fwd, *bwd], axis=-1))
        rnn_state = ops.split(bridged, self.n_states, axis=-1)
        attn_vec = ops.zeros_like(rnn_state[0])  # (the compute dtype, as the states)
        if self.attention is None:  # h of each direction (an LSTM's finals are h, c)
            keys = ops.expand_dims(ops.concatenate([fwd[0], bwd[0]], axis=-1), 1)
        else:
            keys = self.attention.precompute(x)
        return (keys, x), mask, [*rnn_state, attn_vec]

    # --- decoder ----------------------------------------------------------------

    def _decode(self, emb, state, memory, mask, training=False):
        """One decoder step from the embedding of the previous token.

        Args:
            emb: ``(batch, emb_dim)``; state: see :meth:`encode`.

        Returns:
            attentional vector ``(batch, dec_units)``, new state, attention ``(batch, src_len)``.
        """
        keys, values = memory
        *rnn_state, attn_vec = state
        x = ops.concatenate([emb, attn_vec], axis=-1)  # input feeding
        h, rnn_state = self.decoder_cell(x, list(rnn_state), training=training)
        if self.attention is None:
            context, weights = keys[:, 0], ops.zeros_like(mask, dtype="float32")
        else:
            context, weights = self.attention(h, keys, values, mask)
        attn_vec = self.combine(ops.concatenate([h, context], axis=-1))
        return attn_vec, [*rnn_state, attn_vec], weights

    def _logits(self, attn_vec, ids=None):
        return self.output_projection(attn_vec, self.tgt_embedding.embeddings, ids)

    def step(self, prev_token, state, memory, mask, vocab=None):
        """One inference step.

        Args:
            prev_token: ``(batch,)`` int, the previous output token (``BOS`` at first).
            state: list of ``(batch, dec_units)`` (from :meth:`encode` or the last step).
            memory, mask: from :meth:`encode` (tiled to the same batch).
            vocab: optional ``(n,)`` int target ids (a shortlist, see
                :mod:`seq2seq.shortlist`): only they are scored, and both ``prev_token``
                and the columns of ``log_probs`` are positions in ``vocab``, not ids.

        Returns:
            log_probs ``(batch, vocab)`` (or ``(batch, n)``), new state, attention weights
            ``(batch, src_len)``.
        """
        if vocab is not None:
            prev_token = ops.take(vocab, prev_token, axis=0)
        emb = self.tgt_embedding(prev_token)
        attn_vec, state, weights = self._decode(emb, state, memory, mask)
        logits = ops.cast(self._logits(attn_vec, vocab), "float32")  # scores in float32
        return ops.log_softmax(logits, axis=-1), state, weights

    def teacher_force(self, src_ids, tgt_in_ids, training=False):
        """Decode a known target prefix: attentional vectors and attention of every step.

        Args:
            src_ids: ``(batch, src_len)``; tgt_in_ids: ``(batch, tgt_len)``, BOS-first.

        Returns:
            attentional vectors ``(batch, tgt_len, dec_units)``,
            attention ``(batch, tgt_len, src_len)``.
        """
        _, _, states, weights = self._teacher_states(src_ids, tgt_in_ids, training)
        return states[-1], weights

    def _teacher_states(self, src_ids, tgt_in_ids, training=False):
        """:meth:`teacher_force`'s scan: memory, mask, every state entry per step (each
        ``(batch, tgt_len, ...)``; the first is the decoder RNN's output ``h``, the last
        the attentional vector) and the attention ``(batch, tgt_len, src_len)``."""
        memory, mask, state = self.encode(src_ids, training=training)
        emb = self.dropout(self.tgt_embedding(tgt_in_ids), training=training)

        def body(carry, emb_t):
            _, state, weights = self._decode(emb_t, carry[0], memory, mask, training)
            return (state, weights), (state, weights)

        # The per-step outputs repeat the carry's structure (the TensorFlow backend's
        # scan requires that); the last state entry is the attentional vector.
        init = (state, ops.zeros_like(mask, dtype="float32"))  # attention is float32
        _, (states, weights) = ops.scan(body, init, ops.transpose(emb, (1, 0, 2)))
        states = [ops.transpose(s, (1, 0, 2)) for s in states]
        return memory, mask, states, ops.transpose(weights, (1, 0, 2))

    def forced(self, src_ids, tgt_in_ids):
        """Teacher-forced inference: what :meth:`step` would give at every position of a
        known target (no dropout), and the attention's arithmetic there, in one pass.

        Args:
            src_ids: ``(batch, src_len)``; tgt_in_ids: ``(batch, tgt_len)``, BOS-first.

        Returns:
            log_probs ``(batch, tgt_len, vocab)`` (float32), the attention weights
            ``(batch, tgt_len, src_len)``, and for a model with attention (else None,
            None) the energies ``e_ij`` of each decoder state ``s_i`` against each source
            position ``j`` before the softmax (float32, ``(batch, tgt_len, src_len)``) and
            the context vectors ``(batch, tgt_len, value_dim)``.
        """
        (keys, values), _, states, weights = self._teacher_states(src_ids, tgt_in_ids)
        logits = ops.cast(self._logits(states[-1]), "float32")
        log_probs = ops.log_softmax(logits, axis=-1)
        if self.attention is None:
            return log_probs, weights, None, None
        h = states[0]  # the decoder RNN's output at each step (an LSTM's state is h, c)
        batch, steps = ops.shape(h)[0], ops.shape(h)[1]
        flat_h = ops.reshape(h, (batch * steps, -1))
        flat_keys = ops.repeat(keys, steps, axis=0)  # each sentence's keys, once per step
        energies = ops.reshape(self.attention.energies(flat_h, flat_keys), (batch, steps, -1))
        context = ops.einsum("bts,bsd->btd", weights, ops.cast(values, "float32"))
        return log_probs, weights, ops.cast(energies, "float32"), context

    def call(self, inputs, training=False):
        """Teacher-forced logits.

        Args:
            inputs: ``(src_ids (batch, src_len), tgt_in_ids (batch, tgt_len))``.

        Returns:
            logits ``(batch, tgt_len, vocab)``.
        """
        src_ids, tgt_in_ids = inputs
        attn_vecs, _ = self.teacher_force(src_ids, tgt_in_ids, training=training)
        return self._logits(self.dropout(attn_vecs, training=training))

    def get_config(self):
        return {**super().get_config(), "model_config": self.model_config.to_dict()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):  # a serialized DTypePolicy
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)

    # --- tokenizer as a Keras asset ----------------------------------------------------

    def save_assets(self, dir_path):
        """Keras saving: write the tokenizer into the model's assets folder."""
        if self.tokenizer is not None:
            self.tokenizer.save(Path(dir_path))

    def load_assets(self, dir_path):
        """Keras loading: read the tokenizer from the assets folder, or from beside
        ``config.json`` (a model folder or a Hub snapshot, whose ``assets/`` is absent)."""
        folder = Path(dir_path)
        candidates = [folder / TOKENIZER_FILE]
        if folder.name == ASSETS_DIR:
            candidates.append(folder.parent / TOKENIZER_FILE)
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            return  # weights without a tokenizer still load; Translator.for_model says so
        tokenizer = Tokenizer.load(path.parent)
        if tokenizer.vocab_size != self.model_config.vocab_size:
            raise ValueError(
                f"{path}: vocabulary of {tokenizer.vocab_size} pieces, but the model's "
                f"vocab_size is {self.model_config.vocab_size}"
            )
        self.tokenizer = tokenizer


@keras.saving.register_keras_serializable(package="seq2seq")
class MaskedCrossEntropy(keras.losses.Loss):
    """Token-level cross-entropy from logits, averaged over non-``PAD`` targets.

    Args:
        label_smoothing: mass spread uniformly over the vocabulary (0 = none).
    """

    def __init__(self, label_smoothing: float = 0.0, name="masked_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        """y_true ``(batch, tgt_len)`` int; y_pred ``(batch, tgt_len, vocab)`` logits."""
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        y_true = ops.cast(y_true, "int32")
        nll = -ops.squeeze(ops.take_along_axis(log_probs, ops.expand_dims(y_true, -1), -1), -1)
        if self.label_smoothing:
            smooth = -ops.mean(log_probs, axis=-1)
            nll = (1.0 - self.label_smoothing) * nll + self.label_smoothing * smooth
        mask = ops.cast(ops.not_equal(y_true, PAD), "float32")
        return ops.sum(nll * mask) / ops.maximum(ops.sum(mask), 1.0)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}
