"""Typed configuration of a model; saved beside its weights in ``config.json``.

Not for: training hyper-parameters (see ``training.train.TrainConfig``) or decoding
options (see :mod:`seq2seq.search`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

CELLS = ("gru", "lstm")
ATTENTIONS = ("bahdanau", "luong_dot", "luong_general", "none")
NO_ATTENTION = "none"


def attention_name(kind: str) -> str:
    """``bahdanau attention``, or ``no attention`` for ``none`` (people's words for
    ``ModelConfig.attention``)."""
    return "no attention" if kind == NO_ATTENTION else f"{kind} attention"


@dataclass
class ModelConfig:
    """Architecture of an encoder–decoder with attention and input feeding.

    Args:
        vocab_size: size of the joint subword vocabulary (source and target).
        src_lang, tgt_lang: language codes; the direction of the model.
        emb_dim: embedding size (one table shared by source and target when
            ``share_embeddings``; the joint vocabulary makes that possible).
        enc_units: units of each direction of the bidirectional encoder RNN.
        enc_layers: stacked bidirectional encoder layers (1..n).
        dec_units: units of the decoder RNN.
        cell: ``gru`` or ``lstm`` (encoder and decoder).
        attention: ``bahdanau`` (additive), ``luong_dot``, ``luong_general``, or ``none``:
            no attention, one fixed context for the whole sentence (the encoder's final
            states, as in Cho et al. 2014), the baseline attention is measured against.
        attn_units: hidden size of Bahdanau's scoring MLP.
        dropout: on embeddings, between encoder layers and on the attentional vector.
        tie_output: project the attentional vector to ``emb_dim`` and score it against the
            target embedding table instead of a separate output matrix.
        share_embeddings: one embedding table for source and target.
    """

    vocab_size: int
    src_lang: str = "en"
    tgt_lang: str = "de"
    emb_dim: int = 256
    enc_units: int = 256
    enc_layers: int = 1
    dec_units: int = 512
    cell: str = "gru"
    attention: str = "bahdanau"
    attn_units: int = 256
    dropout: float = 0.2
    tie_output: bool = True
    share_embeddings: bool = True

    def __post_init__(self):
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        if self.attention == "luong_dot" and self.dec_units != 2 * self.enc_units:
            raise ValueError(
                "luong_dot scores decoder states against encoder outputs directly, so "
                f"dec_units ({self.dec_units}) must equal 2 * enc_units ({2 * self.enc_units})"
            )
        if self.enc_layers < 1 or self.vocab_size < 5:
            raise ValueError("enc_layers must be >= 1 and vocab_size >= 5")

    @property
    def has_attention(self) -> bool:
        """False for ``attention: none`` (no attention weights, no heat map)."""
        return self.attention != NO_ATTENTION

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config fields: {sorted(unknown)}")
        return cls(**data)
