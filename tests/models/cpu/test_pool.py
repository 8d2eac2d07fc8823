"""mlimages.models.cpu.pool against Chainer's max_pooling_2d (cover_all=True): outputs and
gradients on random inputs, ties (ReLU zeros, repeated values), numerical gradients."""

import numpy as np
import pytest

from gradutil import forward_backward
from mlimages._chainer import F, check_backward
from mlimages.models.cpu.pool import MaxPooling2D

# (batch, channels, H, W, ksize, stride, pad): overlapping windows (AlexNet's 3/2), disjoint
# ones (small's 2/2), sizes that leave a partial last window (cover_all), padding
SHAPES = [
    (2, 3, 13, 13, (3, 3), (2, 2), (0, 0)),
    (3, 4, 12, 10, (2, 2), (2, 2), (0, 0)),
    (2, 5, 11, 8, (3, 2), (2, 3), (1, 0)),
    (1, 2, 7, 9, (3, 3), (3, 2), (1, 1)),
    (2, 3, 5, 6, (2, 3), (1, 1), (0, 1)),
]


def _compare(x, ksize, stride, pad):
    ref = F.max_pooling_2d(x, ksize, stride, pad)
    gy = np.random.default_rng(9).standard_normal(ref.shape).astype(x.dtype)
    ours = forward_backward(lambda v: MaxPooling2D(ksize, stride, pad).apply((v,))[0], x, gy=gy)
    theirs = forward_backward(lambda v: F.max_pooling_2d(v, ksize, stride, pad), x, gy=gy)
    for a, e in zip(ours, theirs):
        assert a.shape == e.shape
        np.testing.assert_array_equal(a, e)   # a max and a copied gradient: exact


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_and_gradient_equal_chainers(shape):
    n, c, h, w, ksize, stride, pad = shape
    x = np.random.default_rng(h * w).standard_normal((n, c, h, w)).astype(np.float32)
    _compare(x, ksize, stride, pad)


@pytest.mark.parametrize("shape", SHAPES)
def test_ties_send_the_gradient_where_chainers_argmax_does(shape):
    # after a ReLU half the inputs are 0, and small integers repeat: many windows hold
    # their maximum more than once
    n, c, h, w, ksize, stride, pad = shape
    rng = np.random.default_rng(3)
    x = np.maximum(rng.integers(-3, 3, (n, c, h, w)), 0).astype(np.float32)
    _compare(x, ksize, stride, pad)


@pytest.mark.parametrize("shape", SHAPES[:3])
def test_numerical_gradient_float64(shape):
    n, c, h, w, ksize, stride, pad = shape
    # distinct values, far apart: the max is not at a kink of the numerical difference
    x = np.random.default_rng(4).permutation(n * c * h * w).reshape(n, c, h, w) * 0.1
    gy = np.random.default_rng(5).standard_normal(
        F.max_pooling_2d(x, ksize, stride, pad).shape)
    check_backward(
        lambda v: MaxPooling2D(ksize, stride, pad).apply((v,))[0], x, gy,
        dtype=np.float64, eps=1e-3, atol=1e-6, rtol=1e-5)
