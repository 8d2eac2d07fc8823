"""mlimages.models.cpu's switch: which function the networks call, that the networks compute
the same with it on and off (same links, same saved parameters), and a 3-epoch training run
of `small` on real images whose loss curve matches the one with Chainer's own functions."""

import json

import numpy as np
import pytest

from mlimages._chainer import chainer, L
from mlimages.models import build_classifier, cpu
from mlimages.models.cpu.conv import Convolution2D
from mlimages.training.run import train
from trainutil import dataset, options  # noqa: F401 (fixture)


def _creator(y):
    return type(y.creator).__name__


def test_conv_takes_the_fast_path_on_the_cpu_and_sizes_a_lazy_link():
    link = cpu.FastConvolution2D(None, 4, 3, stride=2, pad=1)
    assert isinstance(link, L.Convolution2D)
    y = link(np.zeros((2, 3, 9, 7), np.float32))
    assert isinstance(y.creator, Convolution2D)
    assert link.W.shape == (4, 3, 3, 3) and y.shape == (2, 4, 5, 4)


@pytest.mark.parametrize("value", ["0", "false", "off", " NO "])
def test_the_environment_variable_turns_every_fast_function_off(monkeypatch, value):
    monkeypatch.setenv(cpu.ENV, value)
    x = np.ones((1, 3, 8, 8), np.float32)
    assert _creator(cpu.FastConvolution2D(3, 2, 3)(x)) == "Convolution2DFunction"
    assert _creator(cpu.lrn(x)) == "LocalResponseNormalization"
    assert cpu.lrn(x).creator.__module__.startswith("chainer.")
    assert _creator(cpu.max_pool(x, 3, 2)) == "MaxPoolingND"


def test_chainer_functions_turns_the_fast_path_off_inside_only():
    x = np.ones((1, 3, 8, 8), np.float32)
    with cpu.chainer_functions():
        assert not cpu.enabled()
        assert _creator(cpu.max_pool(x, 3, 2)) == "MaxPoolingND"
    assert cpu.enabled() and _creator(cpu.max_pool(x, 3, 2)) == "MaxPooling2D"


def test_grouped_or_dilated_or_half_precision_use_chainers_function():
    x = np.ones((1, 4, 8, 8), np.float32)
    assert _creator(cpu.FastConvolution2D(4, 2, 3, groups=2)(x)) == "Convolution2DFunction"
    assert _creator(cpu.FastConvolution2D(4, 2, 3, dilate=2)(x)) == "Convolution2DFunction"
    assert cpu.max_pool(x.astype(np.float16), 2).creator.__module__.startswith("chainer.")


def _forward_backward(arch, fast, monkeypatch, batch=2):
    monkeypatch.setenv(cpu.ENV, "1" if fast else "0")
    np.random.seed(0)
    model = build_classifier(arch, 5)
    size = model.predictor.insize
    x = np.random.default_rng(1).uniform(-1, 1, (batch, 3, size, size)).astype(np.float32)
    t = np.arange(batch, dtype=np.int32) % 5
    # train=False: no dropout, batch normalisation on its fixed statistics: deterministic
    with chainer.using_config("train", False):
        loss = model(x, t)
    model.cleargrads()
    loss.backward()
    return float(loss.array), {name: p.grad for name, p in model.namedparams()}


@pytest.mark.parametrize("arch", ["small", "alexbn", "alex"])
def test_networks_compute_the_same_with_the_switch_on_and_off(arch, monkeypatch):
    loss, grads = _forward_backward(arch, True, monkeypatch)
    loss_ref, grads_ref = _forward_backward(arch, False, monkeypatch)
    assert sorted(grads) == sorted(grads_ref)   # the same links: the same saved model
    assert loss == pytest.approx(loss_ref, rel=1e-5)
    for name, grad in grads.items():
        ref = grads_ref[name]
        np.testing.assert_allclose(grad, ref, rtol=1e-3, atol=1e-4 * np.abs(ref).max(),
                                   err_msg=name)


def _losses(dataset, out, fast, monkeypatch):  # noqa: F811 (the fixture's value)
    monkeypatch.setenv(cpu.ENV, "1" if fast else "0")
    train(options(dataset, out, epoch=3), progress=False)
    log = json.loads((out / "log").read_text())
    ends = [e for e in log if "validation/main/loss" in e]
    return [(e["main/loss"], e["validation/main/loss"]) for e in ends]


@pytest.mark.slow
def test_small_trains_to_the_same_loss_curve(dataset, tmp_path, monkeypatch):  # noqa: F811
    fast = _losses(dataset, tmp_path / "fast", True, monkeypatch)
    reference = _losses(dataset, tmp_path / "chainer", False, monkeypatch)
    assert len(fast) == len(reference) == 3
    # same seed, same batches: only float32 rounding differs (sums in another order)
    np.testing.assert_allclose(fast, reference, rtol=1e-3, atol=1e-4)
    assert reference[-1][0] < reference[0][0]   # the run learns: the curve is not flat
