"""Fast CPU functions for the networks: convolution, LRN, max pooling (``MLIMAGES_FAST_CPU``).

The networks declare ``FastConvolution2D`` links (``L.Convolution2D`` with the same
parameters, so the same saved files) and call ``lrn`` and ``max_pool`` instead of ``F.*``.
On the CPU (a NumPy array) these run this package's Chainer ``FunctionNode``s: one GEMM
over a channels-last im2col per convolution and per gradient, pooling and LRN in
channels-last memory, element-wise work split over the cores.  Anywhere else (CuPy,
ChainerX, a dilated or grouped convolution, ``MLIMAGES_FAST_CPU=0``) they call Chainer's own
function, so the GPU path and the parameters (the same links) are unchanged.
"""

import contextlib
import os

import numpy

from mlimages._chainer import chainer, F, L
from mlimages.models.cpu.conv import Convolution2D
from mlimages.models.cpu.lrn import LocalResponseNormalization
from mlimages.models.cpu.pool import MaxPooling2D

ENV = "MLIMAGES_FAST_CPU"
OFF = ("0", "false", "no", "off")


CONFIG = "mlimages_fast_cpu"


def enabled():
    """True unless the environment variable ``MLIMAGES_FAST_CPU`` is 0/false/no/off (read
    at every call, so a process can switch) or inside ``chainer_functions()``."""
    return (getattr(chainer.config, CONFIG, True)
            and os.environ.get(ENV, "1").strip().lower() not in OFF)


@contextlib.contextmanager
def chainer_functions():
    """Inside, the networks run Chainer's own functions: for code that reads the graph by
    Chainer's node names (``onnx_chainer``'s exporter knows only those)."""
    with chainer.using_config(CONFIG, False):
        yield


def _fast(x):
    """Whether ``x`` (a Variable or array) takes the fast path."""
    array = getattr(x, "array", x)
    return (type(array) is numpy.ndarray and array.dtype in (numpy.float32, numpy.float64)
            and array.ndim == 4 and enabled())


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class FastConvolution2D(L.Convolution2D):
    """``L.Convolution2D`` (same constructor, parameters and link hooks) whose forward runs
    ``cpu.conv.Convolution2D`` on the fast path; ``link(x, relu=True)`` is
    ``F.relu(link(x))``, fused on the fast path.

    Returns (forward): chainer.Variable (B, out_channels, oh, ow), what the parent returns.
    """

    def forward(self, x, relu=False):
        if self.W.array is None:  # lazily sized (in_channels None), as the parent does
            self._initialize_params(x.shape[1])
        if (not _fast(x) or self.groups != 1 or self.dilate != (1, 1)
                or self.W.dtype != x.dtype):
            y = super().forward(x)
            return F.relu(y) if relu else y
        inputs = (x, self.W) if self.b is None else (x, self.W, self.b)
        return Convolution2D(self.stride, self.pad, relu).apply(inputs)[0]


def lrn(x, n=5, k=2, alpha=1e-4, beta=.75):
    """``F.local_response_normalization(x, n, k, alpha, beta)``, fast on the CPU."""
    if not _fast(x):
        return F.local_response_normalization(x, n, k, alpha, beta)
    return LocalResponseNormalization(n, k, alpha, beta).apply((x,))[0]


def max_pool(x, ksize, stride=None, pad=0):
    """``F.max_pooling_2d(x, ksize, stride, pad)`` (``cover_all=True``), fast on the CPU."""
    if not _fast(x):
        return F.max_pooling_2d(x, ksize, stride, pad)
    stride = ksize if stride is None else stride
    return MaxPooling2D(_pair(ksize), _pair(stride), _pair(pad)).apply((x,))[0]
