"""Which devices a training run uses: the one place that decides, by Keras backend.

``--strategy`` (``TrainConfig.strategy``):

- ``default``: one device, Keras' choice.
- ``data_parallel`` (old name ``mirrored``, still accepted): every device of this machine.
  JAX: ``keras.distribution.DataParallel`` over ``keras.distribution.list_devices()``.
  TensorFlow: ``tf.distribute.MirroredStrategy``.
- ``multi_worker``: the devices of several machines, one process per machine, each started
  with the same command. JAX: ``keras.distribution.initialize()`` (the cluster from
  ``KERAS_DISTRIBUTION_JOB_ADDRESSES``, ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and
  ``KERAS_DISTRIBUTION_PROCESS_ID``, or what JAX detects itself, e.g. on SLURM or Cloud
  TPU), then ``DataParallel`` over every process' devices. TensorFlow:
  ``tf.distribute.MultiWorkerMirroredStrategy`` (the cluster from ``TF_CONFIG``).

Every device holds the whole model and computes on its rows of the global batch
``(rows, bucket_len)``; the update is the one device's update for that batch (JAX computes
the step over the global batch; on TensorFlow :mod:`training.tf_distribute` makes the sum
of the replicas' gradients the global token mean's, clipped once). The global batch is
what one device would get: ``batch_tokens`` budgets a step over all devices, its rows
padded with all-``PAD`` rows to a multiple of :attr:`Distribution.devices` (see
:class:`training.batching.BucketedBatches`), so a config trains the same way, with the same
learning rate, steps per epoch and schedule, on one device or many; a checkpoint from one
device count resumes on another.

The training loop and the batching only read :class:`Distribution`: ``devices`` (rows
per batch are a multiple of it), ``shard`` (the rows this process feeds: on JAX each
process feeds its own devices; ``tf.distribute`` splits whole batches itself), ``chief``
(the one process that writes files), ``scope()`` (build and compile the model in it) and
``fit_scope()`` (run ``fit`` in it).

Not for: model parallelism (the model is small enough to be replicated).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import keras

log = logging.getLogger("training.distribution")
NAMES = ("default", "data_parallel", "multi_worker")
OLD_NAMES = {"mirrored": "data_parallel"}


@dataclass(frozen=True)
class Distribution:
    """Devices of a run and how this process takes part.

    Attributes:
        name: one of :data:`NAMES`.
        devices: devices a global batch is split across, on all machines; its rows are
            padded to a multiple of this.
        shard: ``(index, count)``: this process feeds rows
            ``[index * rows / count, (index + 1) * rows / count)`` of each global batch.
        chief: this process writes the model folder, the log and the checkpoints.
        scope: a context manager to build and compile the model in.
        fit_scope: a context manager to run ``fit`` in: on JAX the distribution (Keras
            splits each batch over the devices while it is set); on TensorFlow none (the
            model keeps its strategy, and a model a callback builds on the chief alone,
            such as the weights' export, must not make the workers' variables).
        adam: ``keras.optimizers.Adam`` or a subclass that trains as one device would.
        loss: adapts the (scalar, mean) loss to the devices: the identity but on
            TensorFlow with several replicas.
    """

    name: str
    devices: int = 1
    shard: tuple[int, int] = (0, 1)
    chief: bool = True
    scope: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
    fit_scope: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
    adam: Callable[..., keras.optimizers.Optimizer] = keras.optimizers.Adam
    loss: Callable[[keras.losses.Loss], keras.losses.Loss] = lambda loss: loss


def make_distribution(name: str) -> Distribution:
    """The :class:`Distribution` named by ``--strategy``, for the current Keras backend.

    Call it first thing in the process: ``multi_worker`` joins the cluster, which JAX and
    TensorFlow both need before any other computation.
    """
    name = OLD_NAMES.get(name, name)
    if name not in NAMES:
        raise SystemExit(f"unknown strategy {name!r}: one of {', '.join(NAMES)}")
    backend = keras.backend.backend()
    if name == "default":
        dist = Distribution(name)
    elif backend == "jax":
        dist = _keras_data_parallel(name)
    elif backend == "tensorflow":
        dist = _tf_distribute(name)
    else:
        raise SystemExit(f"--strategy {name} needs the JAX or TensorFlow backend, not {backend}")
    if name != "default":
        log.info(
            "strategy %s on %s: %d devices in sync, this process %s",
            name,
            backend,
            dist.devices,
            "the chief" if dist.chief else "not the chief",
        )
    return dist


@contextlib.contextmanager
def this_process_only():
    """No Keras distribution inside: for a model that one process builds alone (such as
    the chief's export of the weights), whose variables must not span the other processes'
    devices. (A ``tf.distribute`` strategy is never entered around ``fit``.)"""
    current = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(current)


def _keras_data_parallel(name: str) -> Distribution:
    """JAX: Keras' ``DataParallel``; each process feeds its own devices' rows."""
    import jax

    if name == "multi_worker":
        keras.distribution.initialize()
    devices = keras.distribution.list_devices()
    # Each process feeds only its rows (BucketedBatches' shard), so Keras must not shard.
    data_parallel = keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
    index, count = jax.process_index(), jax.process_count()
    return Distribution(
        name, len(devices), (index, count), index == 0, data_parallel.scope, data_parallel.scope
    )


def _tf_distribute(name: str) -> Distribution:
    """TensorFlow: a ``tf.distribute`` strategy; each worker reads every batch and keeps its
    replicas' rows (``BucketedBatches.as_dataset`` asks for sharding by data). The loss and
    the optimizer are adapted (:mod:`training.tf_distribute`)."""
    import tensorflow as tf

    from training import tf_distribute

    if name == "multi_worker":
        strategy = tf_distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = tf.distribute.MirroredStrategy()
    return Distribution(
        name,
        strategy.num_replicas_in_sync,
        (0, 1),
        strategy.extended.should_checkpoint,
        strategy.scope,
        adam=tf_distribute.ClipAfterSum,
        loss=tf_distribute.TokenShare,
    )
