"""The devices a test runs on: the CPU always, GPU 0 when CuPy and a CUDA device are there.

``@pytest.mark.parametrize("device", DEVICES)`` gives each test a CPU case and a case marked
``gpu`` (``pytest -m gpu`` selects those: `benchmarks/gpu_check.sh` runs them on a GPU
machine); ``chainer_device(name)`` skips the GPU case where there is no GPU.
"""

import pytest

from mlimages._chainer import chainer, cupy_or_none

DEVICES = [pytest.param(-1, id="cpu"), pytest.param(0, id="gpu", marks=pytest.mark.gpu)]


def chainer_device(gpu):
    """The Chainer device of ``gpu`` (-1: the CPU); skips the test when GPU ``gpu`` is absent."""
    if gpu < 0:
        return chainer.get_device("@numpy")
    cupy = cupy_or_none()
    if cupy is None:
        pytest.skip("needs CuPy and a CUDA device")
    if gpu >= cupy.cuda.runtime.getDeviceCount():
        pytest.skip(f"needs GPU {gpu}")
    return chainer.get_device(f"@cupy:{gpu}")


def to_host(array):
    """A NumPy copy of a NumPy or CuPy array (or a Chainer variable's)."""
    array = getattr(array, "array", array)
    return array.get() if hasattr(array, "get") else array
