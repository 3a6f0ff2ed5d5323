"""Keras 3 ``fit`` under ``tf.distribute`` (TensorFlow backend), made to train as one
device does with the same global batch.

Keras 3.15 on TensorFlow leaves three gaps in data-parallel training; each class here
closes one, where it is:

- :class:`TokenShare` (the loss): Keras divides a loss by the replicas in sync, so that
  the sum of the replicas' gradients is their mean, only when it averages per-sample
  values itself. ``MaskedCrossEntropy`` returns its own token mean, which would be summed
  over the replicas: N times the gradient, and a logged loss N times too large. Each
  replica's loss is weighted by its share of the global batch's target tokens instead,
  so that the sum over replicas is the token mean of the global batch, as on one device.
- :class:`ClipAfterSum` (the optimizer): Keras clips each replica's share of the gradient
  before the shares are summed; one device clips the whole gradient.
- :class:`MultiWorkerMirroredStrategy`: ``strategy.reduce`` as Keras' ``fit`` calls it
  (keras-team/keras#20585), on a nest and on scalars with ``axis=0``.

Not for: the JAX backend, where Keras computes the step over the global batch.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from seq2seq.tokenizer import PAD


class TokenShare(keras.losses.Loss):
    """This replica's share of the global batch's token mean: ``loss`` × this replica's
    target tokens / all replicas' target tokens (a scalar).

    Args:
        loss: the mean over the non-``PAD`` tokens of ``y_true`` ``(rows, tgt_len)``, a
            scalar (``MaskedCrossEntropy``).
    """

    def __init__(self, loss: keras.losses.Loss):
        super().__init__(name=loss.name)
        self.loss = loss

    def call(self, y_true, y_pred):
        tokens = ops.sum(ops.cast(ops.not_equal(y_true, PAD), "float32"))
        replica = tf.distribute.get_replica_context()  # None: Keras' symbolic build
        total = replica.all_reduce("SUM", tokens) if replica else tokens
        return self.loss(y_true, y_pred) * tokens / ops.maximum(total, 1.0)


class ClipAfterSum(keras.optimizers.Adam):
    """Adam that clips (``clipnorm``, ``global_clipnorm``, ``clipvalue``) the gradient
    summed over the replicas, as one device clips its gradient."""

    def _clip_gradients(self, grads):
        return grads  # each replica's share: clipped below, once summed

    def _all_reduce_sum_gradients(self, grads_and_vars):
        summed = super()._all_reduce_sum_gradients(grads_and_vars)
        clipped = super()._clip_gradients([grad for grad, _ in summed])
        return list(zip(clipped, [var for _, var in summed]))


class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """Reduces as Keras' ``fit`` asks: its first ``((src, tgt_in), tgt_out)`` batch, a nest,
    leaf by leaf (as ``MirroredStrategy`` does), and each step's scalar logs, asked for over
    ``axis=0``, over the replicas."""

    def reduce(self, reduce_op, value, axis=None):
        def leaf(v):
            scalar = self.experimental_local_results(v)[0].shape.rank == 0
            return super(MultiWorkerMirroredStrategy, self).reduce(
                reduce_op, v, None if scalar else axis
            )

        return tf.nest.map_structure(leaf, value)
