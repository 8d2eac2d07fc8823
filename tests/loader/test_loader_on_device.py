"""Batches reach the device as they left the loader: on the CPU and on GPU 0 (``-m gpu``)."""

import numpy as np
import pytest

from devices import DEVICES, chainer_device, to_host
from mlimages.loader import BatchLoader, converter
from trainutil import small_dataset  # noqa: F401 (fixture)


@pytest.mark.parametrize("gpu", DEVICES)
def test_converter_moves_a_batch_to_the_device_unchanged(small_dataset, gpu):
    device = chainer_device(gpu)
    data = small_dataset
    with BatchLoader(data["train"], data["root"], data["mean"], 32, 5, train=True,
                     seed=3) as loader:
        batch = next(loader)
        host = [np.array(a) for a in batch]
        x, t = converter(batch, device)
    assert type(x) is type(device.xp.zeros(1)) and type(t) is type(device.xp.zeros(1))
    assert (x.shape, x.dtype, t.dtype) == ((5, 3, 32, 32), np.float32, np.int32)
    assert np.array_equal(to_host(x), host[0]) and np.array_equal(to_host(t), host[1])
    assert np.abs(host[0]).max() > 0
