"""Every network trains on every device: forward, backward and an update on the CPU and on GPU 0.

The GPU cases (``pytest -m gpu``) also check that the device computes what the CPU computes:
the same weights and batch give the same losses, step after step.
"""

import numpy as np
import pytest

from devices import DEVICES, chainer_device, to_host
from mlimages._chainer import chainer
from mlimages.models import build_classifier, get_arch


def losses_of_steps(arch, gpu, steps=3, batch=2, n_classes=2):
    """The losses of ``steps`` SGD updates on one fixed batch, from fixed initial weights."""
    device = chainer_device(gpu)
    np.random.seed(0)
    model = build_classifier(arch, n_classes)
    insize = get_arch(arch).insize
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (batch, 3, insize, insize)).astype(np.float32)
    t = (np.arange(batch) % n_classes).astype(np.int32)
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        model.predictor(x[:1])                        # lazily sized layers get their weights
    model.to_device(device)
    optimizer = chainer.optimizers.MomentumSGD(lr=0.01, momentum=0.9).setup(model)
    x, t = device.send(x), device.send(t)
    losses = []
    # dropout draws differently on NumPy and CuPy: compare the deterministic network
    with chainer.using_config("train", arch != "alex" and arch != "alexbn"):
        for _ in range(steps):
            optimizer.update(model, x, t)
            losses.append(float(to_host(model.loss)))
            grads = [to_host(p.grad) for p in model.params()]
            assert all(np.isfinite(g).all() for g in grads), f"{arch}: non-finite gradient"
            assert any(np.abs(g).max() > 0 for g in grads), f"{arch}: all gradients zero"
    return losses


@pytest.mark.parametrize("gpu", DEVICES)
@pytest.mark.parametrize("arch", ["small", "alexbn", "alex"])
def test_a_network_learns_a_fixed_batch(arch, gpu):
    losses = losses_of_steps(arch, gpu)
    assert losses[-1] < losses[0], f"{arch} on device {gpu}: loss {losses}"
    if gpu >= 0:
        reference = losses_of_steps(arch, -1)
        np.testing.assert_allclose(losses, reference, rtol=2e-3, atol=2e-4,
                                   err_msg=f"{arch}: GPU {gpu} and the CPU disagree")
