"""Shared helpers of the training tests: a small, easy generated dataset and a trained run.

The task is easy on purpose (each class has its own pattern *and* its own tint), so that the
`small` network learns it in two epochs of a few iterations on two shared CPU cores.
"""

import dataclasses
import sys
from pathlib import Path

import pytest
from PIL import Image

from mlimages.demo import synth
from mlimages.label import LabelOptions, label_tree
from mlimages.mean import MeanOptions, mean_image
from mlimages.training.options import TrainOptions
from mlimages.training.run import train

TINTS = ((230, 40, 40), (40, 200, 40), (40, 40, 230))


def make_dataset(root, kinds=("stripes", "rings", "checks"), per_class=8, size=72, seed=0):
    """Write ROOT/images/<kind>/*.jpg, ROOT/lists/{train,val,label_def}.txt and ROOT/mean.npy
    (images brought to ``size`` x ``size``); returns a dict of those paths."""
    root = Path(root)
    for c, kind in enumerate(kinds):
        folder = root / "images" / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shape = (size + 24, size + 8) if i % 2 else (size + 8, size + 24)
            image = synth.make_image(kind, shape, seed=seed * 1000 + c * 100 + i)
            tint = Image.new("RGB", image.size, TINTS[c % len(TINTS)])
            Image.blend(image, tint, 0.5).save(folder / f"{kind}_{i}.jpg", quality=90)
    label_tree(root / "images", root / "lists", LabelOptions(val=0.25, seed=seed))
    mean_image(root / "lists" / "train.txt", root / "images", root / "mean.png",
               MeanOptions(size=size, workers=1), progress=False)
    return {"train": str(root / "lists" / "train.txt"), "val": str(root / "lists" / "val.txt"),
            "root": str(root / "images"), "mean": str(root / "mean.npy")}


def options(data, out, **changes):
    """TrainOptions for the `small` network on ``data`` (from make_dataset)."""
    base = TrainOptions(arch="small", out=str(out), epoch=2, batchsize=6, val_batchsize=6,
                        log_interval=1, snapshot_interval=2, keep=2, seed=0, **data)
    return dataclasses.replace(base, **changes)


def cli_args(data, out, *extra):
    """Command line of `python -m mlimages train` for ``data``."""
    return [sys.executable, "-m", "mlimages", "train", data["train"], "--val", data["val"],
            "--root", data["root"], "--mean", data["mean"], "--arch", "small",
            "--out", str(out), "--batchsize", "6", "--val-batchsize", "6", "--seed", "0",
            "--log-interval", "1", "--quiet", *extra]


# Fixtures imported by several test modules are separate fixtures to pytest; this cache makes
# each of them run once per session all the same.
_made = {}


def _once(key, make):
    if key not in _made:
        _made[key] = make()
    return _made[key]


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """3 classes x 8 images at 72 px (18 train, 6 val)."""
    return _once("dataset", lambda: make_dataset(tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    """The same task at 36 px, for crop 32: four times less work per image."""
    return _once("small_dataset",
                 lambda: make_dataset(tmp_path_factory.mktemp("data36"), size=36))


@pytest.fixture(scope="session")
def trained(dataset, tmp_path_factory):
    """One finished 2-epoch run of `small` at its own crop (64): (TrainResult, data)."""
    def run():
        out = tmp_path_factory.mktemp("run") / "result"
        return train(options(dataset, out), progress=False), dataset
    return _once("trained", run)
