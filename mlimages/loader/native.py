"""The loader's compiled single-pass preprocessing (``_native.c``), called through ctypes.

:func:`place` writes what :func:`mlimages.loader.transforms.place` writes — the crop, mirrored
or not, minus the mean's crop, times float32(1/255) — in one pass over the float32 output where
NumPy makes three: ~40–60 µs less per 227x227 RGB example, ~10 % of a worker's time
(benchmarks/RESULTS.md, 2026-12-03). Same roundings in the same order: the same bits (tested).

It declines (returns False, and the caller runs NumPy) when the extension was not built (no C
compiler when the package was installed: setuptools builds it as optional), when the
environment sets ``MLIMAGES_NATIVE=0`` (read once, at the first call), or when an array is not
laid out as the loop reads it. Every shape, stride and bound is checked here before the C
code touches memory.
"""

import ctypes
import functools
import os

import numpy

ENV = "MLIMAGES_NATIVE"  # "0": never use the compiled loop
_P, _N, _I = ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int


@functools.cache
def function():
    """``mlimages_place`` from the built extension, or None (not built, or turned off)."""
    if os.environ.get(ENV, "1") == "0":
        return None
    try:
        from mlimages.loader import _native
        place_c = ctypes.CDLL(_native.__file__).mlimages_place
    except (ImportError, OSError, AttributeError):  # not built, or built for another system
        return None
    place_c.argtypes = [_P, _P, _N, _N, _N, _P, _N, _N, _N, _I, _I, _I, _I, _I, ctypes.c_float]
    place_c.restype = None
    return place_c


def place(out, chw, mean, top, left, flip, crop, scale):
    """Write ``(flip(chw)[:, top:top+crop, left:left+crop] - mean[:, same]) * scale`` into
    ``out`` with the compiled loop (``mean`` (C, S, S), or (C, 1, 1): one value a channel);
    False, and nothing written, where it cannot: see the module."""
    place_c = function()
    if place_c is None or not _fits(out, chw, mean, top, left, crop):
        return False
    per_channel = mean.shape[1] == 1
    mean_c, mean_row, mean_col = (stride // 4 for stride in mean.strides)
    place_c(out.ctypes.data, chw.ctypes.data, chw.strides[0], chw.strides[1], chw.shape[2],
            mean.ctypes.data, mean_c, 0 if per_channel else mean_row,
            0 if per_channel else mean_col, chw.shape[0], crop, top, left, int(bool(flip)),
            scale)
    return True


def _fits(out, chw, mean, top, left, crop):
    """Whether the arrays are laid out as the loop reads them and the window lies inside."""
    if chw.ndim != 3:
        return False
    channels = chw.shape[0]
    if not (chw.dtype == numpy.uint8 and chw.strides[2] == 1 and min(chw.strides) >= 0 and 0 <= top and top + crop <= chw.shape[1]
            and 0 <= left and left + crop <= chw.shape[2] and crop >= 1):
        return False
    if not (out.dtype == numpy.float32 and out.flags.c_contiguous and out.flags.writeable
            and out.shape == (channels, crop, crop)):
        return False
    if not (mean.dtype == numpy.float32 and mean.ndim == 3 and mean.shape[0] == channels
            and all(s >= 0 and s % 4 == 0 for s in mean.strides)):
        return False
    # As transforms.normalize reads it: a window when mean.shape[1] > 1, else one value a channel.
    return mean.shape[1:] == (1, 1) or (mean.shape[1] > 1 and mean.strides[2] == 4 and
                                        top + crop <= mean.shape[1] and
                                        left + crop <= mean.shape[2])
