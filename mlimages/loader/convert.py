"""The loader's converter, and the uint8 batches of ``normalize="device"``.

With ``normalize="device"`` the loader hands out :class:`RawBatch`: the uint8 crops (already
flipped) and where each was cut; :func:`converter` sends them to the device and subtracts the
mean and scales there (``xp``: NumPy or CuPy), by :func:`mlimages.loader.transforms.normalize`'s
two float32 roundings, so the result equals the host path's exactly, and a GPU receives a
quarter of the bytes.
"""

from typing import NamedTuple

import numpy

from mlimages._chainer import chainer
from mlimages.loader.engine import Batch
from mlimages.loader.transforms import _SCALE

_device_means = {}  # (id of the host mean, device) -> (host mean, its copy on the device)


class RawBatch(NamedTuple):
    """A batch of ``normalize="device"``: ``x`` uint8 (B, C, crop, crop) flipped crops,
    ``t`` int32 (B,), ``tops``/``lefts`` int (B,) where each was cut, ``mean`` the loader's
    float32 (C, S, S) or (C, 1, 1) mean."""

    x: numpy.ndarray
    t: numpy.ndarray
    tops: numpy.ndarray
    lefts: numpy.ndarray
    mean: numpy.ndarray


def _mean_on(device, mean):
    key = (id(mean), repr(device))
    if key not in _device_means:
        if len(_device_means) >= 8:
            _device_means.pop(next(iter(_device_means)))
        _device_means[key] = (mean, chainer.dataset.to_device(device, mean))
    return _device_means[key][1]


def normalize_on_device(batch, device=None):
    """(x, t) on ``device``: x float32 (B, C, crop, crop) = (crop - mean crop) * 1/255."""
    raw = chainer.dataset.to_device(device, batch.x)
    t = chainer.dataset.to_device(device, batch.t)
    xp = chainer.backend.get_array_module(raw)
    mean = _mean_on(device, batch.mean)
    x = xp.empty(raw.shape, xp.float32)
    crop = raw.shape[-1]
    if mean.shape[1] == 1:
        xp.subtract(raw, mean, out=x)
    else:
        for i, (top, left) in enumerate(zip(batch.tops.tolist(), batch.lefts.tolist())):
            xp.subtract(raw[i], mean[:, top:top + crop, left:left + crop], out=x[i])
    x *= _SCALE
    return x, t


@chainer.dataset.converter()
def converter(batch, device=None):
    """Chainer converter for the loader's batches: ``(x, t)`` on ``device``.

    A :class:`Batch` is sent as it is; a :class:`RawBatch` is normalized on the device
    (:func:`normalize_on_device`). Give it to ``StandardUpdater(..., converter=converter)``
    and ``Evaluator(..., converter=converter)``; lists of examples (other iterators) go to
    ``concat_examples``.
    """
    if isinstance(batch, RawBatch):
        return normalize_on_device(batch, device)
    if isinstance(batch, Batch):
        return tuple(chainer.dataset.to_device(device, array) for array in batch)
    return chainer.dataset.concat_examples(batch, device)
