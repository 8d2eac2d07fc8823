"""The loader's compiled single-pass preprocessing (``_native.c``), called through ctypes.

:func:`place` writes what :func:`mlimages.loader.transforms.place` writes — the crop, mirrored
or not, minus the mean's crop, times float32(1/255) — in one pass over the float32 output where
NumPy makes three: ~40–60 µs less per 227x227 RGB example, ~10 % of a worker's time
(benchmarks/RESULTS.md, 2026-12-03). Same roundings in the same order: the same bits (tested).

:func:`pixels` reaches a decoded RGB image's pixels where Pillow keeps them (4 bytes each,
exported without a copy through the Arrow C data interface, Pillow >= 11.2);
:func:`place_pixels` and :func:`crop_pixels` read them there, so the image is never first
copied into planes (``transforms.chw_array``, ~35 µs a 256x256 image; benchmarks/RESULTS.md,
2026-12-03, 10:00).

Each declines (None, or False and nothing written; the caller then runs NumPy) when the
extension was not built (no C compiler when the package was installed: setuptools builds it as
optional), when the environment sets ``MLIMAGES_NATIVE=0`` (read once, at the first call), or
when an array is not laid out as the loops read it. Every shape, stride and bound is checked
here before the C code touches memory.
"""

import ctypes
import functools
import os

import numpy

ENV = "MLIMAGES_NATIVE"  # "0": never use the compiled loops
_P, _N, _I, _F = ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int, ctypes.c_float
_SIGNATURES = {  # name -> (argument types, result type)
    "mlimages_place": ([_P, _P, _N, _N, _N, _P, _N, _N, _N, _I, _I, _I, _I, _I, _F], None),
    "mlimages_place_pixels": ([_P, _P, _N, _N, _P, _N, _N, _N, _I, _I, _I, _I, _F], None),
    "mlimages_crop_pixels": ([_P, _P, _N, _N, _I, _I, _I, _I], None),
    "mlimages_arrow_pixels": ([_P, _P, ctypes.c_int64], _P),
}
_capsule = ctypes.pythonapi.PyCapsule_GetPointer
_capsule.argtypes, _capsule.restype = [ctypes.py_object, ctypes.c_char_p], ctypes.c_void_p


@functools.cache
def library():
    """The built extension's functions (ctypes, by their C names), or None (not built, or
    turned off)."""
    if os.environ.get(ENV, "1") == "0":
        return None
    try:
        from mlimages.loader import _native
        lib = ctypes.CDLL(_native.__file__)
        for name, (argtypes, restype) in _SIGNATURES.items():
            getattr(lib, name).argtypes, getattr(lib, name).restype = argtypes, restype
    except (ImportError, OSError, AttributeError):  # not built, or built for another system
        return None
    return lib


class Pixels:
    """A decoded RGB image's pixels in Pillow's own memory: ``height`` rows of ``width``
    4-byte pixels (R, G, B, padding) from ``address`` on, contiguous. ``image`` is the Pillow
    image; ``export``, the Arrow array capsule, keeps the memory alive as long as this."""

    __slots__ = ("image", "export", "address", "width", "height")

    def __init__(self, image, export, address, width, height):
        self.image, self.export, self.address = image, export, address
        self.width, self.height = width, height


def pixels(image):
    """The :class:`Pixels` of decoded Pillow image ``image``, or None: not RGB, the extension
    off, a Pillow without Arrow export (< 11.2), or rows not in one block (a large image)."""
    lib = library()
    if lib is None or image.mode != "RGB":
        return None
    try:
        schema, export = image.__arrow_c_array__()
        address = lib.mlimages_arrow_pixels(_capsule(schema, b"arrow_schema"),
                                            _capsule(export, b"arrow_array"),
                                            image.width * image.height)
    except (AttributeError, ValueError):  # no export in this Pillow; rows in several blocks
        return None
    if not address:  # exported in another layout than the loops read
        return None
    return Pixels(image, export, address, image.width, image.height)


def place(out, chw, mean, top, left, flip, crop, scale):
    """Write ``(flip(chw)[:, top:top+crop, left:left+crop] - mean[:, same]) * scale`` into
    ``out`` with the compiled loop (``mean`` (C, S, S), or (C, 1, 1): one value a channel);
    False, and nothing written, where it cannot: see the module."""
    lib = library()
    if lib is None or not _fits_planes(chw, top, left, crop):
        return False
    channels = chw.shape[0]
    if not (_fits_out(out, numpy.float32, channels, crop)
            and _fits_mean(mean, channels, top, left, crop)):
        return False
    lib.mlimages_place(out.ctypes.data, chw.ctypes.data, chw.strides[0], chw.strides[1],
                       chw.shape[2], mean.ctypes.data, *_mean_steps(mean), channels, crop,
                       top, left, int(bool(flip)), scale)
    return True


def place_pixels(out, image, mean, top, left, flip, crop, scale):
    """:func:`place` reading :class:`Pixels` ``image``; False, and nothing written, where it
    cannot."""
    lib = library()
    if not (lib is not None and _inside(image.height, image.width, top, left, crop)
            and _fits_out(out, numpy.float32, 3, crop) and _fits_mean(mean, 3, top, left, crop)):
        return False
    lib.mlimages_place_pixels(out.ctypes.data, image.address, 4 * image.width, image.width,
                              mean.ctypes.data, *_mean_steps(mean), crop, top, left,
                              int(bool(flip)), scale)
    return True


def crop_pixels(out, image, top, left, flip, crop):
    """Write the uint8 window of ``flip(image)`` at ``top``, ``left`` into ``out`` (uint8
    (3, crop, crop)) from :class:`Pixels` ``image``; False, and nothing written, where it
    cannot."""
    lib = library()
    if not (lib is not None and _inside(image.height, image.width, top, left, crop)
            and _fits_out(out, numpy.uint8, 3, crop)):
        return False
    lib.mlimages_crop_pixels(out.ctypes.data, image.address, 4 * image.width, image.width,
                             crop, top, left, int(bool(flip)))
    return True


def _mean_steps(mean):
    """The mean's element strides (channel, row, column) as the loops take them: row and
    column 0 for one value a channel."""
    mean_c, mean_row, mean_col = (stride // 4 for stride in mean.strides)
    return (mean_c, 0, 0) if mean.shape[1] == 1 else (mean_c, mean_row, mean_col)


def _inside(height, width, top, left, crop):
    return crop >= 1 and 0 <= top and top + crop <= height and 0 <= left and left + crop <= width


def _fits_planes(chw, top, left, crop):
    """Whether ``chw`` is uint8 planes the loop reads (rows of contiguous bytes) and the window
    lies inside."""
    return (chw.ndim == 3 and chw.dtype == numpy.uint8 and chw.strides[2] == 1
            and min(chw.strides) >= 0 and _inside(chw.shape[1], chw.shape[2], top, left, crop))


def _fits_out(out, dtype, channels, crop):
    return (out.dtype == dtype and out.flags.c_contiguous and out.flags.writeable
            and out.shape == (channels, crop, crop))


def _fits_mean(mean, channels, top, left, crop):
    """Whether ``mean`` is float32 as transforms.normalize reads it: a window when
    ``mean.shape[1] > 1``, else one value a channel."""
    if not (mean.dtype == numpy.float32 and mean.ndim == 3 and mean.shape[0] == channels
            and all(s >= 0 and s % 4 == 0 for s in mean.strides)):
        return False
    return mean.shape[1:] == (1, 1) or (mean.shape[1] > 1 and mean.strides[2] == 4 and
                                        top + crop <= mean.shape[1] and
                                        left + crop <= mean.shape[2])
