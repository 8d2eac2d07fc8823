"""A run's image size and resize mode, from one place: the mean's ``.json``.

``mlimages mean --size S --resize MODE --out DIR`` writes ``DIR/mean.npy`` and, beside it,
``DIR/mean.json``, which records S and MODE. A run takes both from there, so that its loaders
bring every image to S x S the way the mean did; ``args.json`` records them, and ``predict``
reads them back. ``--size`` and ``--resize`` may say them again:

* ``--size`` must be the mean's side: a (3, S, S) mean centres S x S images only;
* ``--resize`` replaces the ``.json``'s mode, with a warning (the mean then centres images
  brought to S another way);
* a mean without a ``.json`` (Chainer's ``compute_mean.py``, a Caffe ``.binaryproto``):
  S is its side, the mode ``--resize`` or ``downscale``.

The crop is checked against S here: a larger one is an error naming ``--crop`` and where S
came from, one under half of S a warning (the network would see a small window of each image).
"""

import logging
from typing import NamedTuple

from mlimages.defaults import DEFAULT_RESIZE
from mlimages.mean import MeanError, info_path, mean_npy, read_mean_info
from mlimages.training.options import TrainError

log = logging.getLogger(__name__)


class ImageSize(NamedTuple):
    """What :func:`image_size` found.

    Attributes: ``size`` (int, the side images are brought to), ``resize`` (str, how),
    ``source`` (str, where the size came from, for messages).
    """

    size: int
    resize: str
    source: str


def image_size(opts, mean, crop):
    """The run's image size and resize mode, checked against the mean and the crop.

    Args:
        opts (TrainOptions): ``mean`` (its path), ``size``, ``resize``, ``crop``, ``arch``.
        mean: float32 (3, H, W), the mean read from ``opts.mean``.
        crop (int): the network's input side.

    Returns:
        ImageSize. A crop under half the size and a ``--resize`` that differs from the mean's
        are logged as warnings.

    Raises:
        TrainError: the mean is not square, its ``.json`` cannot be read or describes another
            size, ``--size`` differs from it, or the crop is larger than the images.
    """
    _, h, w = mean.shape
    if h != w:
        raise TrainError(f"{opts.mean}: the mean is {h}x{w}; it must be square: make it with "
                         "`mlimages mean --size S`")
    info, where = _mean_info(opts.mean)
    if info is not None and info["size"] != h:
        raise TrainError(f"{where} says size {info['size']} but {mean_npy(opts.mean)} is "
                         f"{h}x{w}: the two files are not of one mean; make the mean again "
                         "with `mlimages mean`")
    source = (f"image size from the mean file {where}" if info is not None else
              f"image size from the mean {opts.mean}, no {where or '.json'} beside it")
    found = ImageSize(h, _resize(opts, info, where), source)
    _check_crop(opts, crop, found)
    if opts.size is not None and opts.size != h:
        raise TrainError(f"--size {opts.size} but the mean's images are {h}x{h} ({source}): "
                         f"give --size {h}, or make the mean with `mlimages mean --size "
                         f"{opts.size}` and give that to --mean")
    return found


def _mean_info(path):
    """(the mean's .json as a dict, or None; that .json's path, or None for a Caffe mean)."""
    if str(path).endswith(".binaryproto"):
        return None, None
    npy = mean_npy(path)
    try:
        return read_mean_info(npy), info_path(npy)
    except MeanError as e:
        raise TrainError(str(e)) from None


def _resize(opts, info, where):
    """--resize, else the mean's recorded mode, else the default (said in the log)."""
    recorded = None if info is None else info["resize"]
    if opts.resize is None:
        if recorded is None:
            log.info("no %s beside the mean %s: images are brought to its size with "
                     "--resize %s (give --resize if the mean was made another way)",
                     where or ".json", opts.mean, DEFAULT_RESIZE)
        return recorded or DEFAULT_RESIZE
    if recorded is not None and recorded != opts.resize:
        log.warning("--resize %s, but the mean was made with --resize %s (%s): it centres "
                    "images brought to size another way; leave --resize out to use %s",
                    opts.resize, recorded, where, recorded)
    return opts.resize


def _check_crop(opts, crop, found):
    """Raise TrainError when ``crop`` is larger than the images; warn when under half."""
    flag = f"--crop {crop}" + ("" if opts.crop else f" (the {opts.arch} network's input)")
    suggest = round(crop * 256 / 227)  # AlexNet's proportion: 227 of 256
    if crop > found.size:
        raise TrainError(f"{flag} is larger than the {found.size}-pixel images "
                         f"({found.source}): give --crop {found.size} or less (`mlimages "
                         f"inspect --arch {opts.arch}` lists sizes that fit), or make the "
                         f"mean with `mlimages mean --size {suggest}`")
    if 2 * crop < found.size:
        log.warning("%s is less than half the %d-pixel image side (%s): the network sees a "
                    "%dx%d window of each image; to train on whole images make the mean with "
                    "`mlimages mean --size %d`", flag, found.size, found.source, crop, crop,
                    suggest)
