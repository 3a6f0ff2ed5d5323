"""training.average: the mean of checkpoints, written as a new model folder, on a tiny
trained model and hand-shifted copies of its weights."""

import json
import shutil

import h5py
import numpy as np
import pytest

from seq2seq import bundle
from training import average

pytestmark = pytest.mark.slow  # each test trains checkpoints


def shifted(src, dst, by, optimizer=False):
    """A copy of weights file ``src`` with every weight + ``by`` (and, like a training
    backup, an optimizer group when asked)."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        for name in average.weight_names(src):
            f[name][...] = f[name][...] + by
        if optimizer:
            f.create_dataset("optimizer/vars/0", data=np.zeros(3))
    return dst


@pytest.fixture
def tiny(tiny_model_dir):
    return tiny_model_dir[0]


def test_mean_of_checkpoints_is_a_loadable_model(tiny, tmp_path):
    weights = tiny / bundle.WEIGHTS_FILE
    a = shifted(weights, tmp_path / "a.weights.h5", 1.0)
    b = shifted(weights, tmp_path / "b.weights.h5", 3.0, optimizer=True)
    out = average.average_folder(tiny, [a, b], tmp_path / "avg")

    loaded = bundle.load(out)
    original = bundle.load(tiny)
    pairs = list(zip(loaded.model.weights, original.model.weights, strict=True))
    assert pairs
    for new, old in pairs:  # (w + 1 + w + 3) / 2 = w + 2
        np.testing.assert_allclose(np.asarray(new), np.asarray(old) + 2.0, rtol=1e-5, atol=1e-5)
    meta = json.loads((out / bundle.METADATA_FILE).read_text())
    assert meta["averaged_from"] == [str(a), str(b)]
    assert meta["direction"] == json.loads((tiny / bundle.METADATA_FILE).read_text())["direction"]
    assert "optimizer" not in average.weight_names(out / bundle.WEIGHTS_FILE)


def test_refuses_an_existing_folder_and_a_foreign_checkpoint(tiny, tiny_luong_dir, tmp_path):
    weights = tiny / bundle.WEIGHTS_FILE
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit, match="exists"):
        average.average_folder(tiny, [weights], taken)
    assert (taken / "keep.txt").read_text() == "mine"

    # Luong attention has other weights than Bahdanau: not a checkpoint of this model.
    foreign = tiny_luong_dir / bundle.WEIGHTS_FILE
    with pytest.raises(SystemExit, match="not a checkpoint of this model"):
        average.average_folder(tiny, [weights, foreign], tmp_path / "mixed")
    assert not (tmp_path / "mixed").exists()  # no half-written folder left behind
    with pytest.raises(SystemExit, match="no such weights file"):
        average.average_folder(tiny, [tmp_path / "none.h5"], tmp_path / "x")


def test_format_keys_cannot_be_overwritten(tiny, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny, folder)
    with pytest.raises(ValueError, match="direction"):
        bundle.update_metadata(folder, direction="de-en", note="x")
    bundle.update_metadata(folder, trained_on="a test")
    assert bundle.load(folder).metadata["trained_on"] == "a test"
