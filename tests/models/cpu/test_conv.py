"""mlimages.models.cpu.conv against Chainer's own convolution_2d: outputs and gradients on
random inputs (float32), numerical gradients (float64), odd shapes."""

import numpy as np
import pytest

from gradutil import forward_backward
from mlimages._chainer import chainer, F, check_backward
from mlimages.models.cpu.conv import Convolution2D, col2im, im2col

# (batch, in channels, H, W, out channels, kh, kw, stride, pad): non-square images and
# kernels, strides and pads that differ by axis, AlexNet's conv1 geometry scaled down
SHAPES = [
    (2, 3, 13, 11, 4, 3, 3, (1, 1), (1, 1)),
    (3, 5, 13, 11, 7, 3, 4, (2, 3), (1, 2)),
    (2, 3, 31, 27, 6, 11, 11, (4, 4), (0, 0)),
    (1, 2, 7, 9, 3, 5, 5, (1, 1), (2, 2)),
    (2, 4, 6, 5, 2, 1, 1, (1, 1), (0, 0)),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bias", [True, False])
def test_forward_and_gradients_equal_chainers(shape, bias):
    n, c, h, w, o, kh, kw, stride, pad = shape
    rng = np.random.default_rng(sum(shape[:7]))
    x = rng.standard_normal((n, c, h, w), np.float32)
    W = rng.standard_normal((o, c, kh, kw), np.float32)
    b = rng.standard_normal(o, np.float32) if bias else None
    ref = F.convolution_2d(x, W, b, stride, pad)
    gy = rng.standard_normal(ref.shape, np.float32)
    ours = forward_backward(lambda *v: Convolution2D(stride, pad).apply(v)[0], x, W, b,
                            gy=gy)
    theirs = forward_backward(lambda *v: F.convolution_2d(*v, stride=stride, pad=pad),
                              x, W, b, gy=gy)
    assert ours[0].shape == theirs[0].shape
    for a, e in zip(ours, theirs):
        assert a.shape == e.shape and a.dtype == np.float32
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(e).max()))
        assert np.abs(e).max() > 0


@pytest.mark.parametrize("shape", SHAPES[:3])
def test_fused_relu_equals_relu_of_chainers_convolution(shape):
    n, c, h, w, o, kh, kw, stride, pad = shape
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, c, h, w), np.float32)
    W = rng.standard_normal((o, c, kh, kw), np.float32)
    b = rng.standard_normal(o, np.float32)
    ref = F.relu(F.convolution_2d(x, W, b, stride, pad))
    assert 0 < (ref.array > 0).mean() < 1
    gy = rng.standard_normal(ref.shape, np.float32)
    ours = forward_backward(lambda *v: Convolution2D(stride, pad, relu=True).apply(v)[0],
                            x, W, b, gy=gy)
    theirs = forward_backward(
        lambda *v: F.relu(F.convolution_2d(*v, stride=stride, pad=pad)), x, W, b, gy=gy)
    for a, e in zip(ours, theirs):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(e).max()))


def test_a_second_backward_pass_gives_the_same_gradients():
    rng = np.random.default_rng(6)
    x = chainer.Variable(rng.standard_normal((2, 3, 9, 9), np.float32))
    W = chainer.Variable(rng.standard_normal((4, 3, 3, 3), np.float32))
    y = F.sum(Convolution2D((2, 2), (1, 1), relu=True).apply((x, W))[0] ** 2)
    y.backward()
    first = x.grad.copy(), W.grad.copy()
    x.cleargrad()
    W.cleargrad()
    y.backward()   # the columns were given back after the first: made again
    np.testing.assert_array_equal(x.grad, first[0])
    np.testing.assert_array_equal(W.grad, first[1])


@pytest.mark.parametrize("shape", SHAPES[:4])
def test_numerical_gradients_float64(shape):
    n, c, h, w, o, kh, kw, stride, pad = shape
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, c, min(h, 13), min(w, 13)))
    W = rng.standard_normal((2, c, min(kh, 5), min(kw, 5)))
    b = rng.standard_normal(2)
    y = F.convolution_2d(x, W, b, stride, pad)
    gy = rng.standard_normal(y.shape)
    check_backward(
        lambda *v: Convolution2D(stride, pad).apply(v)[0], (x, W, b), gy,
        dtype=np.float64, atol=1e-6, rtol=1e-5)


def test_output_keeps_the_shape_of_nchw_and_memory_of_nhwc():
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8), np.float32)
    W = np.ones((5, 3, 3, 3), np.float32)
    y = Convolution2D((1, 1), (1, 1)).apply((x, W))[0].array
    assert y.shape == (2, 5, 8, 8)
    assert y.transpose(0, 2, 3, 1).flags.c_contiguous


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), g> == <x, col2im(g)> for every x and g: the gradient of the unfolding
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 9, 7, 3))
    cols = im2col(x, 3, 2, (2, 1), (1, 1))
    g = rng.standard_normal(cols.shape)
    back = col2im(g, x.shape, (2, 1), (1, 1))
    assert back.shape == x.shape
    np.testing.assert_allclose((cols * g).sum(), (x * back).sum(), rtol=1e-10)


def test_second_derivative_is_refused_with_the_switch_named():
    x = chainer.Variable(np.ones((1, 1, 3, 3)))
    W = chainer.Variable(np.ones((1, 1, 2, 2)))
    y = Convolution2D((1, 1), (0, 0)).apply((x, W))[0]
    gx, = chainer.grad([F.sum(y)], [x], enable_double_backprop=True)
    with pytest.raises(NotImplementedError, match="MLIMAGES_FAST_CPU=0"):
        chainer.grad([F.sum(gx * gx)], [W])
