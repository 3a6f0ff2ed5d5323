"""Start a deeper model from a trained one: a warm start that adds encoder layers.

A run whose ``init_from`` folder has fewer encoder layers than its ``model`` asks for (say
``{"enc_layers": 2}`` on a 1-layer folder) keeps every weight of the folder, and each added
layer starts out passing its input through, nearly unchanged (the identity initialisation
of Net2Net; Chen, Goodfellow and Shlens 2016): the grown model translates as the folder did
on its first step, and training then only has to learn what the new layer adds, instead of
relearning the whole model from scratch.

An added layer is a bidirectional RNN whose input is the ``2 * enc_units`` outputs of the
layer below (forward half, then backward half), so each direction can copy its own half:

* GRU: the update gate is shut (bias −:data:`GATE`, so ``h_t ≈ candidate``), the
  candidate reads its half of the input through :data:`SCALE` times the identity and
  nothing else: ``h_t ≈ tanh(SCALE * x_t) ≈ x_t`` for the ``x_t`` in (−1, 1) that a
  recurrent layer outputs.
* LSTM: input and output gates open, forget gate shut (biases ±:data:`GATE`), the cell
  input reads its half the same way: ``h_t ≈ tanh(tanh(SCALE * x_t))``.

Every other weight of an added layer starts at zero; gradients reach all of them (the gates
and the recurrent matrices see ``h_{t-1}``, which differs from unit to unit).
"""

from __future__ import annotations

import keras
import numpy as np

from seq2seq.config import ModelConfig
from seq2seq.model import Seq2Seq

GATE = 3.0
"""Gate pre-activation of an added layer: sigmoid(3) ≈ 0.95 open, sigmoid(−3) ≈ 0.05 shut."""

SCALE = 1.3
"""Gain of an added layer's identity: the least-squares fit of ``sigmoid(3) * tanh(a * x) ≈
x`` for x uniform in [−1, 1] (rms error 0.065, against 0.118 for a = 1); on the test suite's
tiny digit-reversing model, greedy output stayed right for 199 of 200 sentences (a = 1: 153).
"""

SHAPE_FREE = ("dropout", "enc_layers")
"""Model fields a warm start may change (``enc_layers`` only upwards)."""


def check_growth(init: ModelConfig, grown: ModelConfig, name: str) -> int:
    """How many encoder layers ``grown`` adds to ``init`` (0 for a plain fine-tune); exits
    with the differing fields when ``grown`` is not ``init`` plus encoder layers."""
    before = {k: v for k, v in init.to_dict().items() if k not in SHAPE_FREE}
    after = {k: v for k, v in grown.to_dict().items() if k not in SHAPE_FREE}
    changed = sorted(k for k in before if before[k] != after.get(k))
    if changed or grown.enc_layers < init.enc_layers:
        shown = changed + (["enc_layers"] if grown.enc_layers < init.enc_layers else [])
        raise SystemExit(
            f"init_from {name}: a warm start keeps the folder's shape and may only add "
            f"encoder layers (or change dropout); changed: {', '.join(shown)}"
        )
    return grown.enc_layers - init.enc_layers


def grow(model: Seq2Seq, init: Seq2Seq) -> int:
    """Give ``model`` (built) the weights of ``init`` (built, same shape but fewer encoder
    layers), and each encoder layer ``init`` lacks the near-identity start above.

    Returns:
        the number of layers added.
    """
    n = init.model_config.enc_layers
    added = model.encoder_rnns[n:]
    new = {id(v) for layer in added for v in layer.weights}
    kept = [v for v in model.weights if id(v) not in new]
    values = init.get_weights()
    assert [tuple(v.shape) for v in kept] == [w.shape for w in values], "not init's shape"
    for variable, value in zip(kept, values):
        variable.assign(value)
    for layer in added:
        for half, rnn in enumerate((layer.forward_layer, layer.backward_layer)):
            pass_through(rnn.cell, half)
    return len(added)


def pass_through(cell, half: int) -> None:
    """Set a GRU or LSTM cell reading ``(batch, 2 * units)`` inputs to output ≈ a squashed
    copy of their ``half``-th half (0: forward, 1: backward)."""
    units = cell.units
    kernel = np.zeros(tuple(cell.kernel.shape), "float32")
    bias = np.zeros(tuple(cell.bias.shape), "float32")
    inputs = slice(half * units, (half + 1) * units)
    eye = SCALE * np.eye(units, dtype="float32")
    if isinstance(cell, keras.layers.GRUCell):  # gates z, r, candidate; bias (2, 3u) or (3u,)
        kernel[inputs, 2 * units :] = eye
        (bias[0] if bias.ndim == 2 else bias)[:units] = -GATE
    else:  # gates i, f, c, o
        kernel[inputs, 2 * units : 3 * units] = eye
        bias[:units], bias[units : 2 * units], bias[3 * units :] = GATE, -GATE, GATE
    cell.kernel.assign(kernel)
    cell.recurrent_kernel.assign(np.zeros(tuple(cell.recurrent_kernel.shape), "float32"))
    cell.bias.assign(bias)
