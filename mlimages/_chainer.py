"""The one place mlimages imports Chainer from.

Chainer 7.8.1 (the last release; the project is in maintenance mode) does not
import on current stacks, for two reasons that are both outside the numerics:

1. ``chainer/_environment_check.py`` imports ``numpy.distutils`` (gone in
   NumPy 2 and on Python >= 3.12) and ``pkg_resources`` (gone from
   setuptools >= 81, and not installed in a Python >= 3.12 venv by default),
   only to print advisory warnings (macOS Accelerate, optional-package
   versions).  We register a replacement module under that name *before*
   Chainer is imported; Chainer's ``from chainer import _environment_check``
   then finds ours and its ``check()`` does nothing.
2. ``chainer/functions/array/as_strided.py`` reads ``numpy.sctypes`` at import
   time, which NumPy 2 removed.  We give NumPy 2 an equivalent ``sctypes``
   table (the same dtypes NumPy 1.x listed), only when it is missing.

Nothing in site-packages is edited.  With both bridged, Chainer runs
correctly on NumPy 1.26 and 2.x and on Python 3.11 to 3.13 (the tests import
it and run a forward/backward/update through this module).

Use ``from mlimages._chainer import chainer, F, L`` everywhere in mlimages.
"""

import sys
import types

import numpy

_ENV_CHECK = "chainer._environment_check"


def _numpy_sctypes():
    """The ``numpy.sctypes`` table of NumPy 1.x, rebuilt from scalar types."""
    return {
        "int": [numpy.int8, numpy.int16, numpy.int32, numpy.int64],
        "uint": [numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64],
        "float": [numpy.float16, numpy.float32, numpy.float64, numpy.longdouble],
        "complex": [numpy.complex64, numpy.complex128, numpy.clongdouble],
        "others": [bool, object, bytes, str, numpy.void],
    }


def _bridge_numpy():
    # NumPy 2 answers ``numpy.sctypes`` through a module __getattr__ that
    # raises AttributeError, so hasattr() is the right probe.
    if not hasattr(numpy, "sctypes"):
        numpy.sctypes = _numpy_sctypes()


def _bridge_environment_check():
    if _ENV_CHECK in sys.modules:
        return
    module = types.ModuleType(_ENV_CHECK)
    module.__doc__ = ("Stand-in installed by mlimages._chainer: Chainer's own "
                      "check needs numpy.distutils and pkg_resources.")
    module.check = lambda: None
    sys.modules[_ENV_CHECK] = module


def _import_chainer():
    if "chainer" not in sys.modules:
        _bridge_numpy()
        _bridge_environment_check()
    import chainer  # noqa: E402  (must follow the bridges)
    return chainer


chainer = _import_chainer()

import chainer.functions as F  # noqa: E402
import chainer.links as L  # noqa: E402
from chainer import training  # noqa: E402
from chainer.training import extensions  # noqa: E402

__all__ = ["chainer", "F", "L", "training", "extensions", "cupy_or_none", "check_backward"]


def cupy_or_none():
    """Return the ``cupy`` module when Chainer can use it, else ``None``."""
    from chainer.backends import cuda
    return cuda.cupy if cuda.available else None


def check_backward(*args, **kwargs):
    """``chainer.gradient_check.check_backward`` (the tests' numerical gradients), imported on
    first use: ``gradient_check`` imports ``chainer.testing``, which needs ``pkg_resources``."""
    from chainer.gradient_check import check_backward as check
    return check(*args, **kwargs)
