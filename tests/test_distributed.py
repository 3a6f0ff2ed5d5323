"""Data-parallel training really runs on two devices of this CPU and trains as one device
does: JAX over two host devices of one process (``keras.distribution.DataParallel``) and
over two processes (``keras.distribution.initialize``), TensorFlow over two worker
processes (``MultiWorkerMirroredStrategy``, ``TF_CONFIG``); processes meet on loopback.

Each trains the tiny model of ``test_train.py`` for two epochs on one device and on two;
the loss curves (train and dev loss, epoch by epoch) must agree. The JAX run on two
devices then resumes on one: a checkpoint from one device count resumes on another.
"""

import csv
import json
import os
import socket
import subprocess
import sys
from importlib.util import find_spec

import numpy as np
import pytest
from test_train import ROOT, small_run_args

from training.batching import BucketedBatches, make_examples

pytestmark = pytest.mark.slow  # multi-process training

# Fast, and steep enough that a second epoch trains visibly; no dropout (its random masks
# are drawn per device on TensorFlow); 49 rows a batch, padded to 50 on two devices; the
# gradient clipped at most steps (where it is clipped matters).
QUICK = [
    "--learning_rate",
    "0.01",
    "--warmup_steps",
    "5",
    "--model.dropout",
    "0",
    "--batch_tokens",
    "392",
    "--clipnorm",
    "0.1",
]
TRAIN = "import sys; from training.train import main; main(sys.argv[1:])"
# JAX: also report, from inside the process, what fit runs under.
JAX_TRAIN = """if True:
    import json, sys
    import keras
    fit = keras.Model.fit

    def reporting_fit(model, *args, **kwargs):
        dist = keras.distribution.distribution()
        devices = model.trainable_variables[0].value.sharding.device_set
        print("fit:", json.dumps([type(dist).__name__, len(devices)]), file=sys.stderr)
        return fit(model, *args, **kwargs)

    keras.Model.fit = reporting_fit
    from training.train import main
    main(sys.argv[1:])
"""


def start(code, args, env_extra):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env_extra}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(processes):
    """Wait for all; the stderr of each (all must have succeeded)."""
    outputs = [p.communicate(timeout=600)[1] for p in processes]
    for p, err in zip(processes, outputs):
        assert p.returncode == 0, err[-3000:]
    return outputs


def curve(folder):
    with open(folder / "model" / "training_log.csv") as f:
        return [(float(r["loss"]), float(r["val_loss"])) for r in csv.DictReader(f)]


def assert_same_curves(one, two, epochs):
    assert len(one) == len(two) == epochs, (one, two)  # a row an epoch: the log written once
    np.testing.assert_allclose(one, two, rtol=2e-5)
    assert one[-1][0] < 0.99 * one[-2][0], one  # it trains (a resumed run goes on)


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


needs_jax = pytest.mark.skipif(find_spec("jax") is None, reason="jax is not installed")


def jax_env(root, **extra):
    """JAX, its compiled programs cached under ``root`` for the next runs."""
    return {
        "KERAS_BACKEND": "jax",
        "JAX_COMPILATION_CACHE_DIR": str(root / "jax-cache"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        **extra,
    }


@pytest.fixture(scope="module")
def jax_one_device(tmp_path_factory):
    """``(root, curve)``: JAX on one device for two epochs, the reference of the JAX tests."""
    root = tmp_path_factory.mktemp("jax")
    (root / "one").mkdir()
    args = small_run_args(root / "one", [*QUICK, "--epochs", "2"])
    log = finish([start(JAX_TRAIN, args, jax_env(root))])[0]
    assert 'fit: ["NoneType", 1]' in log
    return root, curve(root / "one")


@needs_jax
def test_jax_data_parallel_on_two_devices_trains_as_one(jax_one_device):
    root, reference = jax_one_device
    two = root / "two"
    two.mkdir()
    env = jax_env(root, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    args = small_run_args(two, [*QUICK, "--epochs", "2", "--strategy", "data_parallel"])
    log = finish([start(JAX_TRAIN, args, env)])[0]
    assert "data_parallel on jax: 2 devices in sync" in log
    assert 'fit: ["DataParallel", 2]' in log  # the variables on both, the batches split
    assert_same_curves(curve(two), reference, epochs=2)
    # Its checkpoint resumes on one device (running the reference's cached programs).
    resume = small_run_args(two, [*QUICK, "--epochs", "3", "--resume"])
    log = finish([start(JAX_TRAIN, resume, jax_env(root))])[0]
    assert 'fit: ["NoneType", 1]' in log
    losses = [loss for loss, _ in curve(two)]
    assert len(losses) == 3 and losses[2] < 0.99 * losses[1], losses  # it went on


@needs_jax
def test_jax_two_processes_train_as_one(jax_one_device):
    root, reference = jax_one_device
    folder = root / "processes"
    folder.mkdir()
    (port,) = free_ports(1)
    cluster = {
        "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
        "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
    }
    args = small_run_args(folder, [*QUICK, "--epochs", "2", "--strategy", "multi_worker"])
    chief, other = finish(
        [
            start(JAX_TRAIN, args, jax_env(root, **cluster, KERAS_DISTRIBUTION_PROCESS_ID=str(i)))
            for i in range(2)
        ]
    )
    assert "multi_worker on jax: 2 devices in sync, this process the chief" in chief
    assert 'fit: ["DataParallel", 2]' in other and "not the chief" in other
    assert "weights saved" in chief and "weights saved" not in other  # the chief writes
    assert_same_curves(curve(folder), reference, epochs=2)


def test_tensorflow_two_workers_train_as_one(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    # No dev BLEU (TensorFlow's compiled search is slow to build; test_train's mirrored
    # run covers it under a strategy): dev loss chooses the best weights.
    quick = [*QUICK, "--epochs", "2", "--dev_bleu_sentences", "0"]
    args = small_run_args(two, [*quick, "--strategy", "multi_worker"])
    workers = [
        start(TRAIN, args, {"TF_CONFIG": json.dumps({"cluster": cluster, "task": task})})
        for task in ({"type": "worker", "index": 0}, {"type": "worker", "index": 1})
    ]
    single = start(TRAIN, small_run_args(one, quick), {})
    _, chief, worker = finish([single, *workers])
    assert "multi_worker on tensorflow: 2 devices in sync, this process the chief" in chief
    assert "2 devices in sync, this process not the chief" in worker
    assert "weights saved" in chief and "weights saved" not in worker  # the chief writes
    assert_same_curves(curve(one), curve(two), epochs=2)


def test_batches_split_evenly_over_devices_and_processes():
    # 7 pairs of 5 tokens, 4 rows a batch: batches of 4 and 3 pairs, padded to 6 rows for
    # 3 devices (2 each), pairs dealt to the devices in turn; then 3 processes' shares.
    examples, _ = make_examples([[5] * 4] * 7, [[6] * 4] * 7, max_len=10)
    kwargs = {"batch_tokens": 32, "bucket_step": 8, "shuffle": False, "devices": 3}
    whole = BucketedBatches(examples, **kwargs)
    (src, tgt_in), tgt_out = whole[1]
    assert src.shape == tgt_in.shape == tgt_out.shape == (6, 8)
    real = (tgt_out != 0).any(axis=1)
    assert real.tolist() == [True, False, True, False, True, False]  # a pair on each device
    shares = [BucketedBatches(examples, **kwargs, shard=(i, 3))[1] for i in range(3)]
    assert all(share[1].shape == (2, 8) for share in shares)
    np.testing.assert_array_equal(np.concatenate([share[1] for share in shares]), tgt_out)
    with pytest.raises(ValueError, match="does not divide"):
        BucketedBatches(examples, **kwargs, shard=(0, 2))
