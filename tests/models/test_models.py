"""Tests for mlimages.models: the registry and the networks' shapes."""

import numpy as np
import pytest

from mlimages.defaults import ARCH_NAMES
from mlimages._chainer import chainer, cupy_or_none
from mlimages.models import ARCHS, ModelError, build_classifier, get_arch


def test_registry_names_and_cli_choices_agree():
    assert set(ARCHS) == {"alex", "alexbn", "small"}
    assert tuple(sorted(ARCHS)) == tuple(sorted(ARCH_NAMES))


@pytest.mark.parametrize("name, insize", [("alex", 227), ("alexbn", 227), ("small", 64)])
def test_each_model_declares_its_input_size(name, insize):
    assert get_arch(name).insize == insize


def test_unknown_arch_names_the_choices():
    with pytest.raises(ModelError, match="alex, alexbn, small"):
        get_arch("resnet")


def test_one_class_is_refused():
    with pytest.raises(ModelError, match="at least 2 classes"):
        build_classifier("small", 1)


def check_forward(arch, batch, n_classes, device):
    """Logits of shape (batch, n_classes), float32, finite, on ``device``."""
    model = build_classifier(arch, n_classes)
    model.to_device(device)
    insize = get_arch(arch).insize
    x = device.send(np.random.default_rng(0).standard_normal(
        (batch, 3, insize, insize)).astype(np.float32))
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        y = model.predictor(x)
    assert y.shape == (batch, n_classes)
    assert y.dtype == np.float32
    assert bool(device.xp.isfinite(y.array).all())
    return model


@pytest.mark.parametrize("arch, batch", [("alex", 1), ("alexbn", 2), ("small", 2)])
def test_forward_cpu(arch, batch):
    check_forward(arch, batch, 7, chainer.get_device("@numpy"))


@pytest.mark.gpu
def test_forward_gpu():
    if cupy_or_none() is None:
        pytest.skip("needs CuPy and a CUDA device")
    check_forward("alex", 2, 7, chainer.get_device("@cupy:0"))


def test_alex_layers_have_caffe_names_and_shapes():
    model = check_forward("alex", 1, 5, chainer.get_device("@numpy")).predictor
    shapes = {name.lstrip("/"): p.shape for name, p in model.namedparams()}
    assert shapes["conv1/W"] == (96, 3, 11, 11)
    assert shapes["conv2/W"] == (256, 96, 5, 5)
    assert shapes["conv5/W"] == (256, 384, 3, 3)
    assert shapes["fc6/W"] == (4096, 9216)
    assert shapes["fc8/W"] == (5, 4096)


def test_classifier_reports_loss_and_accuracy():
    model = build_classifier("small", 3)
    x = np.zeros((4, 3, 64, 64), np.float32)
    t = np.array([0, 1, 2, 0], np.int32)
    loss = model(x, t)
    assert loss.shape == ()
    assert np.isclose(float(loss.array), np.log(3), atol=0.5)
    assert 0 <= float(model.accuracy.array) <= 1
