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
from mlimages.models.cpu import workspace
from mlimages.models.cpu.layout import over_batch, to_nchw, to_nhwc


def out_size(size, k, s, p):
    """Output length of a convolution (no ``cover_all``)."""
    return (size + 2 * p - k) // s + 1


def _padded(xh, ph, pw):
    """(B, H, W, C) -> zero-padded (B, H+2ph, W+2pw, C) from the workspace; the array itself
    when there is no padding."""
    if not ph and not pw:
        return xh
    b, h, w, c = xh.shape
    xp = workspace.take("zero-pad", (b, h + 2 * ph, w + 2 * pw, c), xh.dtype)
    xp[:, ph:ph + h, pw:pw + w] = xh   # the border is never written: it stays zero
    return xp


def _windows(xp, kh, kw, sy, sx, oh, ow):
    """The (B, oh, ow, kh, kw, C) strided view of the windows of padded NHWC ``xp``."""
    sb, sh, sw, sc = xp.strides
    return as_strided(xp, (xp.shape[0], oh, ow, kh, kw, xp.shape[3]),
                      (sb, sh * sy, sw * sx, sh, sw, sc), writeable=False)


def im2col(xh, kh, kw, stride, pad):
    """Channels-last columns: (B, H, W, C) -> C-contiguous (B, oh, ow, kh, kw, C), taken
    from the workspace (``give("cols", ...)`` it back when done)."""
    b, h, w, c = xh.shape
    oh, ow = out_size(h, kh, stride[0], pad[0]), out_size(w, kw, stride[1], pad[1])
    xp = _padded(xh, *pad)
    view = _windows(xp, kh, kw, *stride, oh, ow)
    cols = workspace.take("cols", view.shape, xh.dtype)

    def copy(start, stop):
        numpy.copyto(cols[start:stop], view[start:stop])
    over_batch(copy, b)
    if xp is not xh:
        workspace.give("zero-pad", xp)
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
    """``F.convolution_2d(x, W, b, stride, pad)`` (no groups, no dilation, no cover_all),
    followed by ``F.relu`` when ``relu`` (done in place: no second array, no second pass).

    Inputs: x (B, C, H, W), W (O, C, kh, kw), optional b (O,), all of one float dtype.
    Output: (B, O, oh, ow), stored channels-last (see ``layout``).  The geometry is also
    under the attribute names of Chainer's node (``sy``, ``ph``, ``dy``, ``cover_all``...),
    which ``models.sizes`` reads.
    """

    cover_all = False
    dy = dx = 1

    def __init__(self, stride, pad, relu=False):
        self.stride, self.pad, self.relu = tuple(stride), tuple(pad), relu
        (self.sy, self.sx), (self.ph, self.pw) = self.stride, self.pad
        self.cols = None

    def forward(self, inputs):
        x, W = inputs[:2]
        self.retain_inputs((0, 1))
        self.x_shape = x.shape
        o = W.shape[0]
        cols = self.columns(x, W)
        b, oh, ow = cols.shape[:3]
        y = numpy.matmul(cols.reshape(b * oh * ow, -1), weight_matrix(W).T)
        if len(inputs) == 3:
            y += inputs[2]
        if self.relu:
            numpy.maximum(y, 0, out=y)
            self.retain_outputs((0,))
        if chainer.config.enable_backprop:
            self.cols = cols   # for the weight gradient; given back once that is computed
        else:
            workspace.give("cols", cols)
        return to_nchw(y.reshape(b, oh, ow, o)),

    def columns(self, x, W):
        """im2col of ``x`` (B, C, H, W) for the weights' kernel: (B, oh, ow, kh, kw, C)."""
        return im2col(to_nhwc(x), W.shape[2], W.shape[3], self.stride, self.pad)

    def backward(self, indexes, grad_outputs):
        x, W = self.get_retained_inputs()
        y = self.get_retained_outputs()[0].array if self.relu else None
        grad = Convolution2DGrad(self, x.array, y, indexes)
        return grad.apply((W, grad_outputs[0]))


class Convolution2DGrad(chainer.FunctionNode):
    """The gradients of ``Convolution2D`` that ``indexes`` asks for (0: x, 1: W, 2: b).

    Inputs: W, gy (B, O, oh, ow). Outputs: one array per index, in that order.  ``y`` is the
    forward output when the ReLU is fused (the gradient passes where ``y > 0``).  First-order
    only: training needs no more (its own backward raises NotImplementedError).
    """

    def __init__(self, conv, x, y, indexes):
        self.conv, self.x, self.y, self.indexes = conv, x, y, tuple(indexes)

    def forward(self, inputs):
        W, gy = inputs
        conv = self.conv
        gyh = to_nhwc(gy)
        if self.y is not None:
            masked = workspace.take("relu-gy", gyh.shape, gyh.dtype)
            numpy.multiply(gyh, to_nhwc(self.y) > 0, out=masked)
            gyh = masked
        gym = gyh.reshape(-1, gyh.shape[3])
        # the forward pass's columns, or (a second backward) made again
        cols = conv.cols if conv.cols is not None else conv.columns(self.x, W)
        conv.cols = None
        out = []
        for index in self.indexes:
            if index == 0:
                gcols = workspace.take("gcols", cols.shape, gym.dtype)
                numpy.matmul(gym, weight_matrix(W), out=gcols.reshape(gym.shape[0], -1))
                b, c, h, w = conv.x_shape
                out.append(to_nchw(col2im(gcols, (b, h, w, c), conv.stride, conv.pad)))
                workspace.give("gcols", gcols)
            elif index == 1:
                gw = numpy.matmul(gym.T, cols.reshape(gym.shape[0], -1))
                o, c, kh, kw = W.shape
                out.append(numpy.ascontiguousarray(
                    gw.reshape(o, kh, kw, c).transpose(0, 3, 1, 2)))
            else:
                out.append(gym.sum(axis=0))
        workspace.give("cols", cols)
        if self.y is not None:
            workspace.give("relu-gy", gyh)
        return tuple(out)

    def backward(self, indexes, grad_outputs):
        raise NotImplementedError(
            "mlimages' fast CPU convolution has no second derivative; "
            "set MLIMAGES_FAST_CPU=0 to use Chainer's convolution_2d")
