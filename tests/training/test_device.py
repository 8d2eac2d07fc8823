"""Tests for mlimages.training.device: the CPU always, a GPU only when it really works."""

import importlib.util

import numpy as np
import pytest

from mlimages._chainer import cupy_or_none
from mlimages.training.device import GpuError, check_gpu

HAS_CUPY = importlib.util.find_spec("cupy") is not None


def test_a_negative_number_is_the_cpu():
    assert check_gpu(-1).xp is np


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here")
def test_a_gpu_without_cupy_says_what_to_install():
    with pytest.raises(GpuError, match="--gpu 0: CuPy is not installed; install CuPy .*"
                                       "pip install cupy-cuda12x.*pip install cupy-cuda13x"
                       ) as caught:
        check_gpu(0)
    # The PyPI name `mlimages` belongs to an unrelated 2016 package: never advise installing it.
    assert "mlimages[" not in str(caught.value)


@pytest.mark.gpu
def test_gpu_numbers_past_the_last_device_are_refused():
    cupy = cupy_or_none()
    if cupy is None:
        pytest.skip("needs CuPy and a CUDA device")
    assert check_gpu(0).xp is cupy
    count = cupy.cuda.runtime.getDeviceCount()
    with pytest.raises(GpuError, match=f"this machine has {count} CUDA device"):
        check_gpu(count)
