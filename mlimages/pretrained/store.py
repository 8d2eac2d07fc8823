"""The cache folder: each model's file, checked, and its ``.npz`` conversion beside it.

::

    $MLIMAGES_HOME/                       (default ~/.cache/mlimages)
      pretrained/
        bvlc_alexnet.caffemodel           the published file, its sha1 checked
        bvlc_alexnet-9116a64c.npz         its arrays in this package's convention (RGB, 1/255)
        bvlc_alexnet.caffemodel.part      a download in progress (resumed by the next call)
        bvlc_alexnet.lock                 held while one process downloads and converts

The ``.npz`` carries the first 8 hex digits of the sha1 it was made from, so a file of
another sha1 never reuses it; it is read back only through
:class:`mlimages.training.npz.NpzArchive` (``train --init-model``), never with pickle.
"""

import fcntl
import io
import os
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy

from mlimages._fs import atomic_write_bytes
from mlimages.pretrained import registry
from mlimages.pretrained.download import check_file, download
from mlimages.pretrained.registry import PretrainedError

SUBFOLDER = "pretrained"


class Fetched(NamedTuple):
    """Where a model is on disk.

    Attributes:
        model (PretrainedModel).  file (Path): the published file.  weights (Path): its
        ``.npz``.  downloaded (bool): fetched by this call.  converted (bool): the ``.npz``
        was written by this call.
    """

    model: object
    file: Path
    weights: Path
    downloaded: bool
    converted: bool


def folder(home=None):
    """The folder the models are kept in: ``HOME/pretrained`` (``HOME``: :func:`registry.home`)."""
    return Path(home if home is not None else registry.home()) / SUBFOLDER


def fetch(name, home=None, progress=True):
    """Make model ``name`` ready to use: download and check its file, convert it once.

    Args:
        name: a key of :data:`registry.MODELS`.  home: the cache folder (default
            ``$MLIMAGES_HOME`` or ``~/.cache/mlimages``).  progress: a download bar.

    Returns:
        Fetched.

    Raises:
        UnknownModel: no such name.  PretrainedError: the download or its checks failed.
        mlimages.training.options.FinetuneError: the file is not a Caffe model Chainer reads.
    """
    model = registry.get(name)
    where = folder(home)
    file = where / model.file
    weights = where / f"{model.name}-{model.sha1[:8]}.npz"
    with _locked(where / f"{model.name}.lock"):
        if weights.is_file():
            return Fetched(model, file, weights, False, False)
        downloaded = not file.is_file()
        if downloaded:
            download(registry.url_of(model), file, model.sha1, model.size, progress)
        else:  # placed by hand, or kept from an earlier download: checked before its use
            check_file(file, model.sha1, model.size, registry.url_of(model), file)
        convert(file, weights)
    return Fetched(model, file, weights, downloaded, True)


@contextmanager
def _locked(path):
    """Hold an exclusive lock on ``path`` (made if needed): one download per model at a time
    (two runs, or the ranks of one, that start together)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise PretrainedError(f"cannot write in the cache folder {path.parent} ({e.strerror}); "
                              f"set {registry.HOME_ENV} to a folder you can write") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def convert(caffemodel, npz):
    """Write the arrays of ``caffemodel`` to ``npz`` (atomically), as ``--init-model`` reads
    them: "conv1/W"-style names, conv1 turned to RGB input scaled by 1/255
    (:func:`mlimages.training.caffe.read_caffemodel`)."""
    from mlimages.training.caffe import read_caffemodel
    arrays = read_caffemodel(caffemodel)
    buffer = io.BytesIO()
    numpy.savez(buffer, **arrays)
    atomic_write_bytes(npz, buffer.getvalue())
    return npz


def init_weights(value, arch, progress=True):
    """What ``--init-model VALUE`` loads: a path as given; a model's name, its cached ``.npz``
    (downloaded and converted first when needed).

    Raises:
        mlimages.training.options.FinetuneError: the name's model does not fit ``arch``.
        PretrainedError: it cannot be had.
    """
    if not registry.is_name(value):
        return value
    model = registry.get(value)
    if model.arch != arch:
        from mlimages.training.options import FinetuneError
        raise FinetuneError(f"--init-model {value}: these weights fit --arch {model.arch}, "
                            f"not --arch {arch}; add --arch {model.arch}")
    return str(fetch(value, progress=progress).weights)

