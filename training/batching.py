"""Length-bucketed batches of token ids for teacher-forced training.

Pairs are grouped by their longer side rounded up to a bucket width, so a batch pads
little; every batch of a bucket has the same shape (``batch_tokens // bucket_len`` rows,
short batches are filled with all-``PAD`` rows that the loss ignores), so the compiled
train step sees few distinct shapes. Batch order is reshuffled every epoch (seeded).

On N devices (``devices=N``) a batch is the global batch of one step: the same pairs as on
one device, its rows padded with all-``PAD`` rows up to a multiple of N, so each device
gets ``rows / N`` of them; the pairs are dealt to the devices in turn, so each holds
nearly as many real rows as the others. ``batch_tokens`` is thus the budget of a step over
all devices (about ``batch_tokens / N`` per device), and the batches do not depend on N.

A ``keras.utils.PyDataset`` (any Keras backend); :meth:`BucketedBatches.as_dataset` wraps
it in ``tf.data`` with declared shapes on the TensorFlow backend (Keras would otherwise
guess fixed shapes from the first batches), which ``tf.distribute`` strategies split.
"""

from __future__ import annotations

import math
from collections import defaultdict

import keras
import numpy as np

from seq2seq.tokenizer import BOS, EOS, PAD


def make_examples(src_ids, tgt_ids, max_len):
    """Add EOS/BOS and drop pairs longer than ``max_len`` tokens on either side.

    Returns:
        ([(src + [EOS], [BOS] + tgt, tgt + [EOS])], number dropped as too long)
    """
    examples, dropped = [], 0
    for s, t in zip(src_ids, tgt_ids):
        if len(s) + 1 > max_len or len(t) + 1 > max_len:
            dropped += 1
            continue
        examples.append((s + [EOS], [BOS] + t, t + [EOS]))
    return examples, dropped


class BucketedBatches(keras.utils.PyDataset):
    """Batches ``((src, tgt_in), tgt_out)`` of int32 arrays ``(rows, bucket_len)``.

    Args:
        examples: from :func:`make_examples`.
        batch_tokens: rows × padded length per batch (about; at least one row), before
            the rows are padded to a multiple of ``devices``.
        bucket_step: bucket width in tokens.
        seed: shuffling seed; ``shuffle=False`` keeps a fixed order (for evaluation).
        devices: devices a batch is split across (row-wise, in equal blocks).
        shard: ``(index, count)``: yield only block ``index`` of ``count`` equal row blocks
            of each batch (``count`` divides ``devices``): the rows of one process'
            devices when each process feeds its own.
    """

    def __init__(
        self,
        examples,
        batch_tokens=2500,
        bucket_step=8,
        seed=0,
        shuffle=True,
        devices=1,
        shard=(0, 1),
    ):
        super().__init__()
        if devices % shard[1]:
            raise ValueError(f"shard count {shard[1]} does not divide {devices} devices")
        self.rng = np.random.default_rng(seed)
        self.shuffle = shuffle
        self.devices, self.shard = devices, shard
        buckets = defaultdict(list)
        for ex in examples:
            length = max(len(ex[0]), len(ex[1]))
            buckets[math.ceil(length / bucket_step) * bucket_step].append(ex)
        self.batches = []  # (bucket_len, rows, [examples])
        for length in sorted(buckets):
            items = buckets[length]
            if shuffle:
                self.rng.shuffle(items)
            rows = max(1, batch_tokens // length)
            for i in range(0, len(items), rows):
                self.batches.append((length, rows, items[i : i + rows]))
        self.order = np.arange(len(self.batches))
        # A resumed run's epochs start ``skip`` batches into an order and end as many into
        # the ``following`` one (drawn when first reached).
        self.skip, self.following = 0, None
        self.target_tokens = sum(len(ex[2]) for ex in examples)
        self.on_epoch_end()

    def __len__(self):
        return len(self.batches)

    def on_epoch_end(self):
        if self.following is not None:
            self.order, self.following = self.following, None
        elif self.shuffle:
            self.rng.shuffle(self.order)

    def resume_at(self, step: int) -> None:
        """Go on from ``step`` batches into an unbroken run (its optimizer's steps; call it
        on new batches): the next batch is the one that run had at ``step``, and every
        epoch from here is ``len(self)`` batches of that same stream, so no batch is seen
        twice or skipped."""
        epochs, self.skip = divmod(step, len(self))
        for _ in range(epochs):
            self.on_epoch_end()

    def as_dataset(self):
        """A ``tf.data.Dataset`` of the batches on the TensorFlow backend, else ``self``."""
        if keras.backend.backend() != "tensorflow":
            return self
        import tensorflow as tf

        def batches():
            for i in range(len(self)):
                yield self[i]
            self.on_epoch_end()

        ids = tf.TensorSpec((None, None), tf.int32)
        dataset = tf.data.Dataset.from_generator(batches, output_signature=((ids, ids), ids))
        # tf.distribute: every worker reads every batch and keeps its replicas' row blocks.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(self)))
        return dataset.with_options(options).prefetch(2)

    def __getitem__(self, index):
        position = self.skip + index
        order = self.order
        if position >= len(self):  # a resumed run's epoch, reaching into the next order
            if self.following is None:
                self.following = self.order.copy()
                if self.shuffle:
                    self.rng.shuffle(self.following)
            order, position = self.following, position - len(self)
        length, rows, items = self.batches[order[position]]
        per_device = -(-rows // self.devices)
        arrays = np.full((3, per_device * self.devices, length), PAD, dtype="int32")
        for i, ex in enumerate(items):
            row = (i % self.devices) * per_device + i // self.devices  # dealt in turn
            for k in range(3):
                arrays[k, row, : len(ex[k])] = ex[k]
        block, blocks = self.shard
        size = arrays.shape[1] // blocks
        arrays = arrays[:, block * size : (block + 1) * size]
        return (arrays[0], arrays[1]), arrays[2]
