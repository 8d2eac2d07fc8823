"""The device a run trains on: the CPU, or a CUDA GPU that is checked to work before anything runs."""

import importlib.util

from mlimages._chainer import chainer
from mlimages.errors import MlimagesError

# CuPy by its own name: the PyPI project `mlimages` is an unrelated 2016 package, so advice to
# install an extra of it would install the wrong thing.
_INSTALL = ("install CuPy for your CUDA version: pip install cupy-cuda12x (CUDA 12) or "
            "pip install cupy-cuda13x (CUDA 13); `nvidia-smi` shows the CUDA version of the "
            "driver, `mlimages info` what Python sees")


class GpuError(MlimagesError, RuntimeError):
    """``--gpu`` was asked for but CuPy or CUDA cannot be used."""


def check_gpu(gpu):
    """The Chainer device for ``gpu`` (-1: CPU); raises GpuError saying what to install.

    It never falls back to the CPU: a run asked to use a GPU either gets one or stops.

    Args:
        gpu (int): a CUDA device number, or a negative number for the CPU.

    Returns:
        chainer.backend.Device: ``@numpy`` or ``@cupy:<gpu>``.

    Raises:
        GpuError: CuPy is missing, cannot reach CUDA, or there is no device ``gpu``.
    """
    if gpu < 0:
        return chainer.get_device("@numpy")
    if importlib.util.find_spec("cupy") is None:
        raise GpuError(f"--gpu {gpu}: CuPy is not installed; {_INSTALL}")
    from chainer.backends import cuda
    if not cuda.available:
        reason = str(getattr(cuda, "_resolution_error", "") or "see `mlimages info`")
        raise GpuError(f"--gpu {gpu}: CuPy is installed but Chainer cannot use it "
                       f"({reason.strip().splitlines()[0]}). If CUDA libraries are missing, "
                       "install the CUDA Toolkit or pip install 'cupy-cuda12x[ctk]'; otherwise "
                       + _INSTALL)
    try:
        count = cuda.cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError when there is no usable driver
        raise GpuError(f"--gpu {gpu}: CuPy cannot reach a CUDA device ({e}); check the NVIDIA "
                       "driver with `nvidia-smi`") from None
    if not 0 <= gpu < count:
        raise GpuError(f"--gpu {gpu}: this machine has {count} CUDA device(s), numbered "
                       f"0..{count - 1}")
    return chainer.get_device(f"@cupy:{gpu}")
