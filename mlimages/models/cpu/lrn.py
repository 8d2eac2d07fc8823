"""Local response normalisation across channels on the CPU, channels-last, as a Chainer
``FunctionNode``.

With channels last, the sum over the ``n`` neighbouring channels of every pixel is one GEMM
of the (pixels, C) squares by a (C, C) band of ones; ``scale ** -0.75`` is taken with two
square roots instead of ``pow``.  Same formulas as Chainer's CPU code:
``y = x * (k + alpha * sum x**2) ** -beta``.
"""

import numpy

from mlimages._chainer import chainer
from mlimages.models.cpu import workspace
from mlimages.models.cpu.layout import over_batch, to_nchw, to_nhwc


def band(c, n, dtype):
    """(C, C) matrix with ones where the channels are at most n // 2 apart."""
    idx = numpy.arange(c)
    return (abs(idx[:, None] - idx[None, :]) <= n // 2).astype(dtype)


def _neg_pow(unit, beta, out):
    """``unit ** -beta`` into ``out`` (two square roots when beta is 0.75)."""
    if beta == 0.75:
        numpy.sqrt(unit, out=out)
        out *= numpy.sqrt(out)
        numpy.reciprocal(out, out=out)
    else:
        numpy.power(unit, -beta, out=out)
    return out


class LocalResponseNormalization(chainer.FunctionNode):
    """``F.local_response_normalization(x, n, k, alpha, beta)``.

    Input: x (B, C, H, W) float. Output: the same shape, stored channels-last.
    """

    def __init__(self, n=5, k=2, alpha=1e-4, beta=.75):
        self.n, self.k, self.alpha, self.beta = n, k, alpha, beta

    def forward(self, inputs):
        self.xh = to_nhwc(inputs[0])
        self.y = numpy.empty_like(self.xh)
        self.intermediates()
        if not chainer.config.enable_backprop:
            self.release()
        return to_nchw(self.y),

    def intermediates(self):
        """``unit = k + alpha * bandsum(x**2)``, ``scale = unit ** -beta`` and ``y`` (the
        first two from the workspace: they live until the backward pass gives them back)."""
        xh, y = self.xh, self.y
        c = xh.shape[3]
        unit = workspace.take("lrn-unit", xh.shape, xh.dtype)
        scale = workspace.take("lrn-scale", xh.shape, xh.dtype)
        squares = workspace.take("lrn-tmp", xh.shape, xh.dtype)
        numpy.square(xh, out=squares)
        # the band GEMM runs on the whole batch (BLAS threads); the element-wise passes
        # are split over the batch by threads of our own
        numpy.matmul(squares.reshape(-1, c), band(c, self.n, xh.dtype) *
                     xh.dtype.type(self.alpha), out=unit.reshape(-1, c))
        workspace.give("lrn-tmp", squares)

        def normalise(start, stop):
            u = unit[start:stop]
            u += self.k
            _neg_pow(u, self.beta, scale[start:stop])
            numpy.multiply(xh[start:stop], scale[start:stop], out=y[start:stop])
        over_batch(normalise, xh.shape[0])
        self.unit, self.scale = unit, scale

    def release(self):
        """Give ``unit`` and ``scale`` back to the workspace (after the backward pass)."""
        workspace.give("lrn-unit", self.unit)
        workspace.give("lrn-scale", self.scale)
        self.unit = self.scale = None

    def backward(self, indexes, grad_outputs):
        return LocalResponseNormalizationGrad(self).apply(grad_outputs)


class LocalResponseNormalizationGrad(chainer.FunctionNode):
    """The input gradient of ``LocalResponseNormalization``; first-order only.

    ``gx = gy * scale - 2 alpha beta x * bandsum(y * gy / unit)``.
    """

    def __init__(self, lrn):
        self.lrn = lrn

    def forward(self, inputs):
        lrn = self.lrn
        gyh = to_nhwc(inputs[0])
        c = gyh.shape[3]
        if lrn.unit is None:   # a second backward pass: computed again
            lrn.intermediates()
        summand = workspace.take("lrn-tmp", gyh.shape, gyh.dtype)
        part = workspace.take("lrn-part", gyh.shape, gyh.dtype)
        gx = numpy.empty_like(gyh)

        def terms(start, stop):
            numpy.multiply(lrn.y[start:stop], gyh[start:stop], out=summand[start:stop])
            summand[start:stop] /= lrn.unit[start:stop]
        over_batch(terms, gyh.shape[0])
        coeff = gyh.dtype.type(2 * lrn.alpha * lrn.beta)
        numpy.matmul(summand.reshape(-1, c), band(c, lrn.n, gyh.dtype) * coeff,
                     out=part.reshape(-1, c))

        def grad(start, stop):
            part[start:stop] *= lrn.xh[start:stop]
            numpy.multiply(gyh[start:stop], lrn.scale[start:stop], out=gx[start:stop])
            gx[start:stop] -= part[start:stop]
        over_batch(grad, gyh.shape[0])
        workspace.give("lrn-tmp", summand)
        workspace.give("lrn-part", part)
        lrn.release()
        return to_nchw(gx),

    def backward(self, indexes, grad_outputs):
        raise NotImplementedError(
            "mlimages' fast CPU LRN has no second derivative; "
            "set MLIMAGES_FAST_CPU=0 to use Chainer's local_response_normalization")
