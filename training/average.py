"""Checkpoint averaging: a model folder whose weights are the mean of several checkpoints
of one training run (Vaswani et al. 2017, §6.1: "averaging the last 5 checkpoints"):
``python -m training.average --model ~/.cache/seq2seq/runs/en-zh/model --out /tmp/en-zh-avg
A.h5 B.h5 ...`` (runs live under ``$SEQ2SEQ_RUNS``, see :mod:`training.runs`).

The inputs are weight files of the same model: a folder's ``model.weights.h5`` or a
training backup (``<run_dir>/backup/latest.weights.h5``, which also holds the
optimizer's state; that part is ignored). ``--out`` gets a copy of ``--model``'s folder
(config, tokenizer, shortlist, logs) with the averaged weights and the averaged files named
in its metadata; it must not exist yet, so nothing is overwritten. Evaluate it with
``training.evaluate`` like any candidate before shipping it.

Not for: training (see :mod:`training.train`).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import h5py
import numpy as np

from seq2seq import bundle as bundle_lib


def weight_names(path: str | Path) -> dict[str, tuple]:
    """Every weight in a Keras ``.weights.h5`` file: its h5 path → shape."""
    names = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            names[name] = item.shape

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return names


def average(inputs: list[str | Path], template: str | Path, out: str | Path) -> None:
    """Write to ``out`` a copy of the weights file ``template`` whose every weight is the mean
    of that weight over ``inputs``. A missing weight or another shape is an error naming the
    file (each input must be a checkpoint of ``template``'s model)."""
    names = weight_names(template)
    sums = {n: np.zeros(shape, dtype="float64") for n, shape in names.items()}
    for path in inputs:
        with h5py.File(path, "r") as f:
            for name, shape in names.items():
                if name not in f or f[name].shape != shape:
                    found = f"shape {f[name].shape}" if name in f else "missing"
                    raise SystemExit(
                        f"{path}: not a checkpoint of this model "
                        f"({name}: {found}, the model's {shape})"
                    )
                sums[name] += f[name][...]
    shutil.copyfile(template, out)
    with h5py.File(out, "r+") as f:
        for name, total in sums.items():
            f[name][...] = (total / len(inputs)).astype(f[name].dtype)


def average_folder(model: str | Path, inputs: list[str | Path], out: str | Path) -> Path:
    """``out``: ``model``'s folder with the mean of ``inputs`` as its weights."""
    model, out = Path(model), Path(out)
    if out.exists():
        raise SystemExit(f"{out} exists: choose a new folder (nothing is overwritten)")
    missing = [str(p) for p in inputs if not Path(p).is_file()]
    if missing:
        raise SystemExit(f"no such weights file: {', '.join(missing)}")
    bundle_lib.load(model)  # refuses a folder that is not a model, with the file to blame
    shutil.copytree(model, out, ignore=shutil.ignore_patterns(bundle_lib.EVAL_FILE))
    try:
        average(inputs, model / bundle_lib.WEIGHTS_FILE, out / bundle_lib.WEIGHTS_FILE)
    except BaseException:
        shutil.rmtree(out)
        raise
    bundle_lib.update_metadata(out, averaged_from=[str(p) for p in inputs])
    bundle_lib.record_weights(out)
    bundle_lib.load(out)  # the result loads as a model
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder the checkpoints belong to")
    parser.add_argument("--out", required=True, help="new folder for the averaged model")
    parser.add_argument("weights", nargs="+", help="weight files (.weights.h5) to average")
    args = parser.parse_args(argv)
    out = average_folder(args.model, args.weights, args.out)
    print(f"{out}: mean of {len(args.weights)} checkpoints")


if __name__ == "__main__":
    main()
