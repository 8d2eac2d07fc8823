"""Validation figures are means over images, whatever the batch size (issue 13, item 1)."""

import json
import math

import numpy as np
import pytest

from mlimages import listfile
from mlimages._chainer import F, L, chainer
from mlimages.loader import BatchLoader, converter
from mlimages.predict import predict
from mlimages.training.metrics import ImageEvaluator, add_batch, means, merge

from conftest import write_image
from mlimages.training.run import train
from trainutil import dataset, options  # noqa: F401 (fixtures)


class AlwaysFirst(chainer.Chain):
    """A real network whose logits are the same for every image: it always says class 0."""

    def __init__(self, n_classes):
        super().__init__()
        with self.init_scope():
            self.b = chainer.Parameter(np.array([1.0] + [0.0] * (n_classes - 1), np.float32))

    def forward(self, x):
        return F.broadcast_to(self.b, (len(x), self.b.shape[0]))


@pytest.fixture(scope="module")
def known_mix(tmp_path_factory):
    """36 images: 27 of class 0, 9 of class 1 (true accuracy of AlwaysFirst: 27/36)."""
    root = tmp_path_factory.mktemp("mix")
    entries = [(f"c{label}/{i}.png", label) for i, label in enumerate([0] * 27 + [1] * 9)]
    for i, (path, _) in enumerate(entries):
        write_image(root / path, size=(12, 12), seed=i)
    listfile.write_list(root / "val.txt", entries)
    return root


def _evaluate(root, batchsize):
    loader = BatchLoader(root / "val.txt", root, None, 8, batchsize, train=False, repeat=False,
                         size=12)
    with loader:
        model = L.Classifier(AlwaysFirst(2))
        return ImageEvaluator(loader, model, converter=converter)()


@pytest.mark.parametrize("batchsize", [32, 5, 36, 1])
def test_accuracy_and_loss_are_per_image_whatever_the_batch_size(known_mix, batchsize):
    result = _evaluate(known_mix, batchsize)
    # Cross-entropy of logits (1, 0): -log(e/(e+1)) for class 0, -log(1/(e+1)) for class 1.
    loss = (27 * math.log1p(math.exp(-1)) + 9 * math.log1p(math.exp(1))) / 36
    assert result["main/accuracy"] == pytest.approx(27 / 36, abs=1e-6)
    assert result["main/loss"] == pytest.approx(loss, rel=1e-5)


def test_chainers_own_evaluator_averages_batches(known_mix):
    # The defect being fixed, measured on the same data: (23/32 + 4/4) / 2, not 27/36.
    loader = BatchLoader(known_mix / "val.txt", known_mix, None, 8, 32, train=False,
                         repeat=False, size=12, shuffle=False)
    with loader:
        result = chainer.training.extensions.Evaluator(
            loader, L.Classifier(AlwaysFirst(2)), converter=converter)()
    assert result["main/accuracy"] == pytest.approx((27 / 32 + 0 / 4) / 2, abs=1e-6)


def test_totals_merge_across_ranks_weighted_by_images():
    a, b = {}, {}
    add_batch(a, {"main/accuracy": np.float32(1.0)}, 30)
    add_batch(b, {"main/accuracy": np.float32(0.0)}, 10)
    assert means(merge([a, b, {}])) == {"main/accuracy": 0.75}


def test_a_runs_validation_accuracy_is_what_predict_counts(dataset, tmp_path):
    # 6 validation images in batches of 4: the last batch is short.
    data = dataset
    result = train(options(data, tmp_path / "run", epoch=1, val_batchsize=4), progress=False)
    log = json.loads((result.out / "log").read_text())
    logged = [e["validation/main/accuracy"] for e in log if "validation/main/accuracy" in e]
    entries = listfile.read_list(data["val"])
    paths = [f"{data['root']}/{e.path}" for e in entries]
    predictions = predict(result.out, paths, top=1)
    right = sum(p.top[0].label == e.label for p, e in zip(predictions, entries))
    assert logged[-1] == pytest.approx(right / len(entries), abs=1e-6)
