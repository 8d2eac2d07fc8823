"""Counts, never batch means: evaluate's accuracy is the training run's validation figure.

A tiny `small` run validates 6 images in batches of 4 (a short last batch of 2, where a mean of
batch means would weigh 2 images like 4); its last logged ``validation/main/accuracy`` is per
image (mlimages.training.metrics), and evaluate on the same list and model must give it.
"""

import csv
import json

import pytest

from mlimages import listfile
from mlimages.evaluate import EvalOptions
from mlimages.evaluate.run import evaluate
from mlimages.training.run import train
from trainutil import options, small_dataset  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def short_batch_run(small_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("shortbatch") / "result"
    opts = options(small_dataset, out, crop=32, val_batchsize=4, epoch=2)
    assert len(listfile.read_list(small_dataset["val"])) % 4 != 0
    return train(opts, progress=False), small_dataset


def test_accuracy_equals_the_validation_figure_of_training(short_batch_run, tmp_path):
    result, data = short_batch_run
    log = json.loads((result.out / "log").read_text())
    figures = evaluate(result.out, data["val"], EvalOptions(root=data["root"], model="last",
                                                            batchsize=4,
                                                            out=str(tmp_path / "e"))).figures
    assert figures.count == 6
    assert figures.accuracy == pytest.approx(log[-1]["validation/main/accuracy"], abs=1e-9)
    with open(tmp_path / "e" / "predictions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sum(r["true"] == r["predicted"] for r in rows) == figures.correct
