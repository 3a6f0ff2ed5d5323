"""Length-bucketed batches of token ids for teacher-forced training.

Pairs are grouped by their longer side rounded up to a bucket width, so a batch pads
little; every batch of a bucket has the same shape (``batch_tokens // bucket_len`` rows,
short batches are filled with all-``PAD`` rows that the loss ignores), so the compiled
train step sees few distinct shapes. Batch order is reshuffled every epoch (seeded).

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
        batch_tokens: rows × padded length per batch (about; at least one row).
        bucket_step: bucket width in tokens.
        seed: shuffling seed; ``shuffle=False`` keeps a fixed order (for evaluation).
    """

    def __init__(self, examples, batch_tokens=2500, bucket_step=8, seed=0, shuffle=True):
        super().__init__()
        self.rng = np.random.default_rng(seed)
        self.shuffle = shuffle
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
        self.target_tokens = sum(len(ex[2]) for ex in examples)
        self.on_epoch_end()

    def __len__(self):
        return len(self.batches)

    def on_epoch_end(self):
        if self.shuffle:
            self.rng.shuffle(self.order)

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
        return dataset.apply(tf.data.experimental.assert_cardinality(len(self))).prefetch(2)

    def __getitem__(self, index):
        length, rows, items = self.batches[self.order[index]]
        arrays = np.full((3, rows, length), PAD, dtype="int32")
        for r, ex in enumerate(items):
            for k in range(3):
                arrays[k, r, : len(ex[k])] = ex[k]
        return (arrays[0], arrays[1]), arrays[2]
