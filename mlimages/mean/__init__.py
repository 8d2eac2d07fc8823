"""List file → mean image: ``.npy`` in Chainer's format, ``.png`` to look at, ``.json`` stats.

Every image of the list is brought to the training size by an :class:`ImageSpec` (default:
``downscale`` to ``DEFAULT_SIZE``) and summed; the size and resize mode are recorded in the
``.json``, where ``mlimages train`` takes them from, so that its loader does the same.  The
sums are exact integers (uint8 pixels into int64), so the mean does not depend on the number
of workers or on the order in which chunks finish: only the final division rounds.

The files written and the one reader of ``mean.npy``: :mod:`mlimages.mean.files`.
"""

import dataclasses
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import NamedTuple

import numpy
from tqdm import tqdm

from mlimages import listfile
from mlimages._fs import pool_context
from mlimages.image import ImageError, open_image
from mlimages.defaults import RESIZE_MODES
from mlimages.mean.files import (check_outputs, info_path, list_companions,  # noqa: F401
                                 mean_npy, output_paths, read_mean, read_mean_info,
                                 write_mean, write_mean_npy)
from mlimages.mean.options import MeanError, MeanOptions  # noqa: F401 (re-exported)

_UINT16_IMAGES = 257  # 257 * 255 = 65535


class Reject(NamedTuple):
    """An image left out of the mean: its path as listed and why (an ImageError slug + detail)."""

    path: str
    reason: str


@dataclasses.dataclass
class MeanResult:
    """What :func:`compute_mean` found.

    Attributes:
        mean: float32 (C, H, W), C = 3 (RGB) or 1, values 0..255.
        channel_mean, channel_std: per channel, over every pixel of every image used.
        used: the :class:`listfile.Entry` of each image summed, in list order.
        rejects: a :class:`Reject` for each unreadable image, in list order.
        written: files written by :func:`write_mean` (empty until then).
    """

    mean: numpy.ndarray
    channel_mean: list
    channel_std: list
    used: list
    rejects: list
    options: MeanOptions
    written: list = dataclasses.field(default_factory=list)


class _ChunkSum(NamedTuple):
    """One worker task's result: exact sums over the images it could read."""

    # (H, W, C) sum of pixels: uint16 while the chunk holds <= 257 images (a quarter of the
    # bytes to send back), int64 beyond; None if nothing was read
    total: "numpy.ndarray | None"
    histogram: numpy.ndarray        # int64 (C, 256) pixel-value counts per channel
    used: list                      # list-order indices of the images summed
    rejects: list                   # (index, reason) of the others


def _sum_chunk(root, items, spec):
    """Decode ``items`` ((index, path) pairs) and sum them; runs in a worker process."""
    channels = 1 if spec.grayscale else 3
    total, histogram = None, numpy.zeros((channels, 256), numpy.int64)
    used, rejects = [], []
    for index, path in items:
        try:
            im = open_image(os.path.join(root, path), spec)
        except ImageError as ex:
            rejects.append((index, f"{ex.reason}: {ex.detail}" if ex.detail else ex.reason))
            continue
        pixels = numpy.asarray(im).reshape(im.size[1], im.size[0], channels)
        if not used:
            partial, pending = numpy.zeros(pixels.shape, numpy.uint16), 0
        # uint16 holds the sum of 257 uint8 images exactly (speed: benchmarks/RESULTS.md).
        numpy.add(partial, pixels, out=partial)
        pending += 1
        if pending == _UINT16_IMAGES:
            total = partial.astype(numpy.int64) if total is None else total + partial
            partial[:], pending = 0, 0
        # Pillow's histogram is C code over the decoded image: the std for free.
        histogram += numpy.asarray(im.histogram(), numpy.int64).reshape(channels, 256)
        used.append(index)
    if used:
        total = partial if total is None else total + partial
    return _ChunkSum(total, histogram, used, rejects)


def _chunks(entries, workers, chunk):
    """Split ``entries`` into lists of (index, path) of ``chunk`` images (at most 32 by default:
    small enough for an even load and a live progress bar, large enough to amortise the
    transfer of each chunk's sum array)."""
    if chunk is None:
        chunk = max(1, min(32, len(entries) // (workers * 8)))
    items = [(i, e.path) for i, e in enumerate(entries)]
    return [items[k:k + chunk] for k in range(0, len(items), chunk)]


def _check(entries, list_file, opts):
    if not entries:
        raise MeanError(f"{list_file} lists no image; nothing to average")
    if not isinstance(opts.size, int) or opts.size < 1:
        raise MeanError(f"size must be a positive integer, got {opts.size!r}")
    if opts.resize not in RESIZE_MODES:
        raise MeanError(f"resize={opts.resize!r}: use downscale, crop or squash "
                        "(the mean needs every image at one size)")
    if opts.workers is not None and opts.workers < 1:
        raise MeanError(f"workers must be >= 1, got {opts.workers}")


def compute_mean(list_file, root=".", opts=None, progress=True):
    """Average every readable image of ``list_file`` at the training size, on all cores.

    Args:
        list_file: a ``path label`` list (see :mod:`mlimages.listfile`).
        root: the folder the listed paths are relative to.
        opts (MeanOptions): size, resize mode, grayscale, workers.
        progress: show a progress bar.

    Returns:
        MeanResult: ``mean`` is float32 (C, size, size), RGB order, 0..255.

    Raises:
        MeanError: empty list, bad options, or not one image could be read.
        ListFileError: the list cannot be read.
    """
    opts = opts or MeanOptions()
    entries = listfile.read_list(list_file)
    _check(entries, list_file, opts)
    spec = opts.spec()
    workers = min(opts.workers or os.cpu_count() or 1, len(entries))
    parts = []
    with ProcessPoolExecutor(workers, mp_context=pool_context()) as pool:
        futures = {pool.submit(_sum_chunk, str(root), items, spec): len(items)
                   for items in _chunks(entries, workers, opts.chunk)}
        # No tqdm object at all without progress: even a disabled one starts a thread.
        bar = tqdm(total=len(entries), unit="img", desc="mean", leave=False) if progress else None
        try:
            for future in as_completed(futures):
                parts.append(future.result())
                if bar is not None:
                    bar.update(futures[future])
        finally:
            if bar is not None:
                bar.close()
    return _combine(parts, entries, opts, list_file, root)


def _combine(parts, entries, opts, list_file, root):
    """Add the chunk sums (exact, in any order) and divide once."""
    used = sorted(i for part in parts for i in part.used)
    rejects = sorted(r for part in parts for r in part.rejects)
    if not used:
        first = rejects[0]
        raise MeanError(f"none of the {len(entries)} images of {list_file} could be read "
                        f"(first: {os.path.join(root, entries[first[0]].path)}: {first[1]}); "
                        "check --root")
    total = numpy.zeros(next(p.total for p in parts if p.total is not None).shape, numpy.int64)
    for part in parts:
        if part.total is not None:
            total += part.total  # uint16 or int64 chunk sums, added exactly in int64
    mean = (total / len(used)).transpose(2, 0, 1).astype(numpy.float32)  # HWC -> CHW
    histogram = sum(part.histogram for part in parts)
    values = numpy.arange(256, dtype=numpy.float64)
    count = histogram.sum(axis=1)
    channel_mean = histogram @ values / count
    channel_var = histogram @ values ** 2 / count - channel_mean ** 2
    return MeanResult(
        mean=mean, channel_mean=channel_mean.tolist(),
        channel_std=numpy.sqrt(numpy.maximum(channel_var, 0)).tolist(),
        used=[entries[i] for i in used],
        rejects=[Reject(entries[i].path, reason) for i, reason in rejects],
        options=opts)


def mean_image(list_file, root=".", out=".", opts=None, progress=True):
    """Compute the mean of ``list_file`` and write every output file (the CLI's one call).

    ``out`` is a folder (``mean.npy``, ``mean.png``, ``mean.json`` are written in it) or a
    name ending in ``.png``/``.npy`` (the files are named after it): :func:`output_paths`.

    Returns:
        MeanResult: with ``written`` filled.

    Raises:
        MeanError: as :func:`compute_mean`, or an output cannot be written (checked first).
    """
    check_outputs(out, list_file)
    result = compute_mean(list_file, root, opts, progress)
    write_mean(result, out, list_file, root)
    return result


def report(result):
    """The printed summary of a :class:`MeanResult`."""
    opts = result.options
    order = "L" if opts.grayscale else "RGB"
    lines = [f"mean of {len(result.used)} images, {opts.resize} to {opts.size}x{opts.size}, "
             f"shape {tuple(result.mean.shape)} {order}",
             "channel mean: " + " ".join(f"{v:.2f}" for v in result.channel_mean),
             "channel std:  " + " ".join(f"{v:.2f}" for v in result.channel_std),
             f"rejected: {len(result.rejects)}"]
    lines.extend(f"  {r.path}: {r.reason}" for r in result.rejects[:5])
    if len(result.rejects) > 5:
        lines.append(f"  ... {len(result.rejects) - 5} more in the rejects file")
    return "\n".join(lines)
