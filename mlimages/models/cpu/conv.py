"""2-D convolution on the CPU as one GEMM over a channels-last im2col (forward and both
gradients), as a Chainer ``FunctionNode``.

Chainer's own CPU convolution builds its columns as (B, C, kh, kw, oh, ow) and ``tensordot``
then copies them again into the GEMM's (B*oh*ow, C*kh*kw) order; the gradients repeat that.
Here the columns are built once, already as (B, oh, ow, kh, kw, C) = (M, K) rows, multiplied
in place by the (K, O) weights, and kept for the weight gradient.
"""

import numpy
from numpy.lib.stride_tricks import as_strided

from mlimages._chainer import chainer
from mlimages.models.cpu.layout import over_batch, to_nchw, to_nhwc


def out_size(size, k, s, p):
    """Output length of a convolution (no ``cover_all``)."""
    return (size + 2 * p - k) // s + 1


def _padded(xh, ph, pw):
    """(B, H, W, C) -> zero-padded (B, H+2ph, W+2pw, C); the array itself when no padding."""
    if not ph and not pw:
        return xh
    b, h, w, c = xh.shape
    xp = numpy.zeros((b, h + 2 * ph, w + 2 * pw, c), xh.dtype)
    xp[:, ph:ph + h, pw:pw + w] = xh
    return xp


def _windows(xp, kh, kw, sy, sx, oh, ow):
    """The (B, oh, ow, kh, kw, C) strided view of the windows of padded NHWC ``xp``."""
    sb, sh, sw, sc = xp.strides
    return as_strided(xp, (xp.shape[0], oh, ow, kh, kw, xp.shape[3]),
                      (sb, sh * sy, sw * sx, sh, sw, sc), writeable=False)


def im2col(xh, kh, kw, stride, pad):
    """Channels-last columns: (B, H, W, C) -> C-contiguous (B, oh, ow, kh, kw, C)."""
    b, h, w, c = xh.shape
    oh, ow = out_size(h, kh, stride[0], pad[0]), out_size(w, kw, stride[1], pad[1])
    view = _windows(_padded(xh, *pad), kh, kw, *stride, oh, ow)
    cols = numpy.empty(view.shape, xh.dtype)

    def copy(start, stop):
        numpy.copyto(cols[start:stop], view[start:stop])
    over_batch(copy, b)
    return cols


def col2im(gcols, shape, stride, pad):
    """The adjoint of ``im2col``: (B, oh, ow, kh, kw, C) summed back into (B, H, W, C)."""
    b, oh, ow, kh, kw, c = gcols.shape
    h, w = shape[1], shape[2]
    (sy, sx), (ph, pw) = stride, pad
    gxp = numpy.zeros((b, h + 2 * ph, w + 2 * pw, c), gcols.dtype)

    def add(start, stop):
        for i in range(kh):
            for j in range(kw):
                gxp[start:stop, i:i + sy * (oh - 1) + 1:sy, j:j + sx * (ow - 1) + 1:sx] += \
                    gcols[start:stop, :, :, i, j]
    over_batch(add, b)
    return gxp[:, ph:ph + h, pw:pw + w]


def weight_matrix(W):
    """(O, C, kh, kw) weights -> (O, K) rows in the columns' (kh, kw, C) order."""
    return W.transpose(0, 2, 3, 1).reshape(W.shape[0], -1)


class Convolution2D(chainer.FunctionNode):
    """``F.convolution_2d(x, W, b, stride, pad)`` (no groups, no dilation, no cover_all).

    Inputs: x (B, C, H, W), W (O, C, kh, kw), optional b (O,), all of one float dtype.
    Output: (B, O, oh, ow), stored channels-last (see ``layout``).  The geometry is also
    under the attribute names of Chainer's node (``sy``, ``ph``, ``dy``, ``cover_all``...),
    which ``models.sizes`` reads.
    """

    cover_all = False
    dy = dx = 1

    def __init__(self, stride, pad):
        self.stride, self.pad = tuple(stride), tuple(pad)
        (self.sy, self.sx), (self.ph, self.pw) = self.stride, self.pad
        self.cols = None

    def forward(self, inputs):
        x, W = inputs[:2]
        self.retain_inputs((1,))
        self.x_shape = x.shape
        o, _, kh, kw = W.shape
        cols = im2col(to_nhwc(x), kh, kw, self.stride, self.pad)
        b, oh, ow = cols.shape[:3]
        y = numpy.matmul(cols.reshape(b * oh * ow, -1), weight_matrix(W).T)
        if len(inputs) == 3:
            y += inputs[2]
        self.cols = cols
        return to_nchw(y.reshape(b, oh, ow, o)),

    def backward(self, indexes, grad_outputs):
        W, = self.get_retained_inputs()
        grad = Convolution2DGrad(self, indexes)
        return grad.apply((W, grad_outputs[0]))


class Convolution2DGrad(chainer.FunctionNode):
    """The gradients of ``Convolution2D`` that ``indexes`` asks for (0: x, 1: W, 2: b).

    Inputs: W, gy (B, O, oh, ow). Outputs: one array per index, in that order.  First-order
    only: training needs no more (its own backward raises NotImplementedError).
    """

    def __init__(self, conv, indexes):
        self.conv, self.indexes = conv, tuple(indexes)

    def forward(self, inputs):
        W, gy = inputs
        conv = self.conv
        gyh = to_nhwc(gy)
        gym = gyh.reshape(-1, gyh.shape[3])
        out = []
        for index in self.indexes:
            if index == 0:
                gcols = numpy.matmul(gym, weight_matrix(W)).reshape(conv.cols.shape)
                b, c, h, w = conv.x_shape
                gx = col2im(gcols, (b, h, w, c), conv.stride, conv.pad)
                out.append(to_nchw(gx))
            elif index == 1:
                gw = numpy.matmul(gym.T, conv.cols.reshape(gym.shape[0], -1))
                o, c, kh, kw = W.shape
                out.append(numpy.ascontiguousarray(
                    gw.reshape(o, kh, kw, c).transpose(0, 3, 1, 2)))
            else:
                out.append(gym.sum(axis=0))
        return tuple(out)

    def backward(self, indexes, grad_outputs):
        raise NotImplementedError(
            "mlimages' fast CPU convolution has no second derivative; "
            "set MLIMAGES_FAST_CPU=0 to use Chainer's convolution_2d")
