"""mlimages.models.cpu.lrn against Chainer's local_response_normalization: outputs and
gradients on random inputs (float32), numerical gradients (float64), other n and beta."""

import numpy as np
import pytest

from gradutil import forward_backward
from mlimages._chainer import chainer, F, check_backward
from mlimages.models.cpu.lrn import LocalResponseNormalization

# AlexNet's defaults, then an odd window, another beta (the pow path), few channels
PARAMS = [dict(), dict(n=3, k=1, alpha=1e-3, beta=0.5), dict(n=7, k=2, alpha=1e-2, beta=0.9)]


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("shape", [(2, 16, 7, 5), (3, 4, 6, 6), (1, 96, 3, 2)])
def test_forward_and_gradient_equal_chainers(params, shape):
    rng = np.random.default_rng(shape[1])
    # activations of the size AlexNet's LRN sees (tens), where the normalisation matters
    x = (rng.standard_normal(shape) * 30).astype(np.float32)
    gy = rng.standard_normal(shape).astype(np.float32)
    ours = forward_backward(lambda v: LocalResponseNormalization(**params).apply((v,))[0], x,
                            gy=gy)
    theirs = forward_backward(lambda v: F.local_response_normalization(v, **params), x, gy=gy)
    for a, e in zip(ours, theirs):
        assert a.shape == e.shape and a.dtype == np.float32
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5 * np.abs(e).max())


@pytest.mark.parametrize("params", PARAMS)
def test_numerical_gradient_float64(params):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 7, 3, 4)) * 10
    gy = rng.standard_normal(x.shape)
    check_backward(
        lambda v: LocalResponseNormalization(**params).apply((v,))[0], x, gy,
        dtype=np.float64, atol=1e-6, rtol=1e-5)


def test_a_second_backward_pass_gives_the_same_gradient():
    x = chainer.Variable(np.random.default_rng(8).standard_normal((2, 8, 3, 3)) * 20)
    y = F.sum(LocalResponseNormalization().apply((x,))[0] ** 2)
    y.backward()
    first = x.grad.copy()
    x.cleargrad()
    y.backward()   # its intermediates went back to the workspace after the first
    np.testing.assert_array_equal(x.grad, first)
