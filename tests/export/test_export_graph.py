"""Tests for mlimages.export.graph: each network traced, cleaned and run in onnxruntime."""

import numpy as np
import pytest

from mlimages._chainer import chainer
from mlimages.export.graph import MEAN, TRACE_BATCH, Deployable, clean, onnx_modules, to_onnx
from mlimages.export.options import INPUT, OPSET, OUTPUT
from mlimages.models import build_classifier
from mlimages.training.rundir import materialise

onnx, onnx_chainer, ort = onnx_modules()


def _network(arch, crop, classes=3):
    np.random.seed(0)
    predictor = build_classifier(arch, classes).predictor
    materialise(predictor, crop)
    return predictor


@pytest.mark.parametrize("arch, crop", [("small", 64), ("alexbn", 67)])  # alex: end to end
def test_the_graph_gives_the_networks_probabilities_at_any_batch_size(arch, crop):
    predictor = _network(arch, crop)
    mean = np.random.default_rng(1).uniform(0, 255, (3, crop, crop)).astype(np.float32)
    model = to_onnx(predictor, mean, crop)
    x = np.random.default_rng(2).uniform(0, 255, (5, 3, crop, crop)).astype(np.float32)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {INPUT: x})[0]
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        want = chainer.functions.softmax(predictor((x - mean) / np.float32(255))).array
    assert got.shape == (5, 3)
    np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_allclose(got.sum(1), 1, atol=1e-5)


@pytest.mark.filterwarnings("ignore:`mapping.NP_TYPE_TO_TENSOR_TYPE`:DeprecationWarning")
def test_weights_are_initializers_only_and_the_batch_is_free():
    crop = 64
    predictor = _network("small", crop)
    mean = np.full((3, crop, crop), 100, np.float32)
    x = np.zeros((TRACE_BATCH, 3, crop, crop), np.float32)
    with chainer.using_config("train", False):
        raw = onnx_chainer.export(Deployable(predictor, mean), x, opset_version=OPSET,
                                  input_names=[INPUT], output_names=[OUTPUT])
    weights = {t.name for t in raw.graph.initializer}
    assert weights & {v.name for v in raw.graph.input}       # what the exporter does
    clean(raw, TRACE_BATCH)
    assert [v.name for v in raw.graph.input] == [INPUT]
    assert [v.name for v in raw.graph.output] == [OUTPUT]
    for value in (raw.graph.input[0], raw.graph.output[0]):
        assert value.type.tensor_type.shape.dim[0].dim_param == "N"
    assert MEAN in {t.name for t in raw.graph.initializer}
    onnx.checker.check_model(raw)
