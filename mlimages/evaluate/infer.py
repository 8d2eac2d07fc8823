"""Images -> class probabilities with a loaded network: batched, read ahead by threads.

Each image is read by training's rules (:func:`mlimages.evaluate.tta.read_chw`), cut into the
views of the TTA mode, and its probability vector is the mean of the softmax of its views.
Images that cannot be read are returned as values (:class:`Unreadable`), never raised; the
others are still classified. Decoding runs on a thread pool one step ahead of the network
(Pillow and NumPy release the GIL while they work).
"""

import collections
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy

from mlimages._chainer import chainer, F
from mlimages.evaluate.tta import make_views, read_chw, view_params
from mlimages.image import REASONS, ImageError


class Unreadable(NamedTuple):
    """An image left out: its position in the input, its path, and why ("slug (detail): what
    to do")."""

    index: int
    path: str
    reason: str


class Scored(NamedTuple):
    """The readable images' probabilities and the unreadable ones.

    Attributes:
        probs: float32 (M, K), one row per readable image, in input order.
        kept: int64 (M,), the input position of each row.
        unreadable: list of :class:`Unreadable`, in input order.
    """

    probs: numpy.ndarray
    kept: numpy.ndarray
    unreadable: list


def reason_of(error):
    """The one-line reason of an :class:`~mlimages.image.ImageError`: slug, detail, advice."""
    detail = f" ({error.detail})" if error.detail else ""
    return f"{error.reason}{detail}: {REASONS[error.reason]}"


def class_probabilities(network, run, paths, tta="none", batchsize=32, device=None,
                        workers=None):
    """The class probabilities of each of ``paths``, averaged over the views of ``tta``.

    Args:
        network: the run's network (logits), on ``device``.
        run: its RunFolder (or anything with its ``mean`` (3, S, S), ``crop``, ``resize``
            and ``names``, such as predict's Predictor).
        paths: image paths.  tta (str): "none", "flip" or "10crop".
        batchsize (int): network inputs per forward pass (at least one image's views).
        device: a ``chainer.backend.Device``; None: the CPU.
        workers (int): decoding threads; None: every core.

    Returns:
        Scored.
    """
    views = view_params(run.mean.shape[1], run.crop, tta)
    count = len(views.tops)
    read = functools.partial(_inputs, run=run, views=views)
    rows, kept, unreadable = [], [], []
    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        for start, results in _read_ahead(pool, read, paths, max(1, batchsize // count)):
            ready = []
            for i, result in enumerate(results, start):
                if isinstance(result, str):
                    unreadable.append(Unreadable(i, str(paths[i]), result))
                else:
                    ready.append((i, result))
            if ready:
                probs = _softmax(network, numpy.concatenate([x for _, x in ready]), device)
                rows.append(probs.reshape(len(ready), count, -1).mean(axis=1))
                kept += [i for i, _ in ready]
    probs = numpy.concatenate(rows) if rows else numpy.zeros((0, len(run.names)))
    return Scored(probs.astype(numpy.float32), numpy.array(kept, numpy.int64), unreadable)


def _inputs(path, run, views):
    """The views of one image (float32 (V, 3, crop, crop)), or the reason it cannot be read."""
    try:
        chw = read_chw(path, run.mean.shape[1], run.resize)
    except ImageError as e:
        return reason_of(e)
    return make_views(chw, run.mean, run.crop, views)


def _read_ahead(pool, read, paths, step):
    """Yield (start, [read(path) for each path of the step]), the next step already reading."""
    pending = collections.deque()
    for start in range(0, len(paths), step):
        pending.append((start, [pool.submit(read, p) for p in paths[start:start + step]]))
        if len(pending) > 1:
            first, futures = pending.popleft()
            yield first, [f.result() for f in futures]
    while pending:
        first, futures = pending.popleft()
        yield first, [f.result() for f in futures]


def _softmax(network, x, device):
    """float32 (N, K): the softmax of the network's logits for ``x``, on the CPU."""
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        y = F.softmax(network(device.send(x) if device is not None else x)).array
    return chainer.backends.cuda.to_cpu(y)
