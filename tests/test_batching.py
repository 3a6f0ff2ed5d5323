"""Training batches: a resumed run's stream goes on where an unbroken run's was."""

import numpy as np
import pytest

from training.batching import BucketedBatches, make_examples


def batches(shuffle=True):
    rng = np.random.default_rng(0)
    src = [list(rng.integers(5, 50, rng.integers(1, 30))) for _ in range(200)]
    examples, _ = make_examples(src, [s[::-1] for s in src], max_len=40)
    return BucketedBatches(examples, batch_tokens=64, bucket_step=8, seed=3, shuffle=shuffle)


def stream(data, epochs):
    """What training reads: ``len(data)`` batches an epoch, ``on_epoch_end`` after each
    (as the TensorFlow dataset and Keras do), each batch as one array."""
    out = []
    for _ in range(epochs):
        for i in range(len(data)):
            (src, tgt_in), tgt_out = data[i]
            out.append(np.concatenate([src, tgt_in, tgt_out], axis=1))
        data.on_epoch_end()
    return out


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("epochs_done, batches_done", [(0, 0), (0, 7), (1, 0), (2, 11)])
def test_a_resumed_stream_goes_on_where_the_unbroken_one_was(shuffle, epochs_done, batches_done):
    n = len(batches())
    assert n > 20
    unbroken = stream(batches(shuffle), 5)
    resumed = batches(shuffle)
    step = epochs_done * n + batches_done
    resumed.resume_at(step)
    after = stream(resumed, 2)  # two epochs of the resumed run, across an order's end
    assert len(after) == 2 * n
    for got, want in zip(after, unbroken[step:]):
        np.testing.assert_array_equal(got, want)
    if shuffle:  # epochs differ in order, so the comparison can tell them apart
        assert not all(np.array_equal(a, b) for a, b in zip(unbroken[:n], unbroken[n : 2 * n]))
