"""What a run starts from, checked before anything is written; and the loaders fed from it.

:func:`check_inputs` checks the output folder, reads the lists, label definitions and mean,
finds the image size and resize mode (:mod:`~mlimages.training.imagesize`), checks the crop
(against the network and the images), that the listed images are there
(:mod:`~mlimages.training.preflight`), the device and the snapshot to resume: every failure
names the file or flag and the fix.
:func:`make_iterators` turns the lists into the run's BatchLoaders.
"""

import dataclasses
import logging
from pathlib import Path
from typing import NamedTuple

import numpy

from mlimages import listfile
from mlimages._fs import blocking_file
from mlimages.defaults import DEFAULT_RESIZE
from mlimages.loader import BatchLoader
from mlimages.loader.cache import stored
from mlimages.mean import MeanError, mean_npy, read_mean
from mlimages.models import get_arch
from mlimages.models.sizes import check_crop
from mlimages.training.caffe import caffe_mean_to_rgb
from mlimages.training.device import check_gpu
from mlimages.training.imagesize import image_size
from mlimages.training.options import TrainError
from mlimages.training.preflight import check_missing, count_missing, rewritten
from mlimages.training.rundir import RUN_FILES, latest_snapshot

log = logging.getLogger(__name__)

#: ``OUT/lists/``: with ``--rewrite-prefix``, the lists as the run reads them (rewritten).
LISTS = "lists"


class Inputs(NamedTuple):
    """What :func:`check_inputs` found.

    Attributes:
        names (list of str): class names.  mean: float32 (3, S, S), RGB, 0..255.
        crop (int): the network's input side.  device: the Chainer device.
        snapshot (Path or None): the trainer snapshot to resume from.
        opts (TrainOptions): the run's options with ``size`` and ``resize`` as found: what
            the loaders and ``args.json`` take.
    """

    names: list
    mean: numpy.ndarray
    crop: int
    device: object
    snapshot: "Path | None"
    opts: object


def check_inputs(opts, resume=None, ranks=None):
    """Everything about a run that can be wrong, checked before a file is written.

    Args:
        opts (TrainOptions): the run.  resume: as :func:`mlimages.training.run.train` takes it.
        ranks (mlimages.training.distributed.Ranks or None): a distributed run's ranks.

    Returns:
        Inputs.

    Raises:
        TrainError, mlimages.models.sizes.SizeError, mlimages.training.device.GpuError.
    """
    check_out(opts.out)
    check_lists_folder(opts)
    snapshot = latest_snapshot(resume) if resume is not None else None
    names, mean = read_inputs(opts)
    crop = opts.crop or get_arch(opts.arch).insize
    check_crop(opts.arch, crop)
    found = image_size(opts, mean, crop)
    opts = dataclasses.replace(opts, size=found.size, resize=found.resize)
    preflight(opts, len(mean))
    # One process per GPU: under MPI, rank k of a node drives that node's GPU k.
    device = check_gpu(opts.gpu if ranks is None or opts.gpu < 0 else ranks.intra_rank)
    return Inputs(names, mean, crop, device, snapshot, opts)


def check_out(out):
    """Raise TrainError unless ``out`` is a folder, or can be made one, in which no file a run
    writes (:data:`~mlimages.training.rundir.RUN_FILES`) is a folder."""
    out = Path(out)
    if out.is_dir():
        blocked = [str(out / name) for name in RUN_FILES if (out / name).is_dir()]
        if blocked:
            raise TrainError(f"--out {out}: {', '.join(blocked)} is a folder where the run "
                             "writes a file; move it away or give another --out")
    elif out.exists() or out.is_symlink():
        raise TrainError(f"--out {out} is a file, not a folder; give another --out")
    elif blocking_file(out) is not None:
        raise TrainError(f"--out {out}: {blocking_file(out)} is a file, so the folder cannot "
                         "be made; give another --out")


def preflight(opts, channels):
    """Stat the images of the train and val lists as the loaders will read them (moved by
    ``rewrite_prefix``; those the loader cache holds need no file); log a warning line for a
    list with some missing.

    Raises:
        TrainError: more than ``opts.max_missing`` of a list is missing
            (:func:`mlimages.training.preflight.check_missing`).
    """
    for given, read in zip((opts.train, opts.val), run_lists(opts, lead=False)):
        if given is None:
            continue
        cached = None if opts.cache is None else (
            lambda entries, read=read: stored(opts.cache, read, entries, opts.root, opts.size,
                                              opts.resize, channels))
        found = count_missing(given, opts.root, opts.rewrite_prefix, cached)
        warning = check_missing(found, opts.root, opts.max_missing, opts.rewrite_prefix)
        if warning:
            log.warning(warning)


def check_lists_folder(opts):
    """With ``rewrite_prefix``: raise TrainError unless ``OUT/lists/`` can hold the lists."""
    if not opts.rewrite_prefix:
        return
    folder = Path(opts.out) / LISTS
    for path in (folder, folder / "train.txt", folder / "val.txt"):
        if path.exists() and path.is_dir() != (path == folder):
            kind = "a file" if path == folder else "a folder"
            raise TrainError(f"--out {opts.out}: {path} is {kind}, where --rewrite-prefix "
                             "writes the rewritten lists; move it away or give another --out")


def _label_def_path(opts):
    return Path(opts.label_def) if opts.label_def else Path(opts.train).parent / "label_def.txt"


def read_inputs(opts):
    """Check the lists, label definitions and mean; returns (class names, mean array)."""
    for name in ("train", "val"):
        path = getattr(opts, name)
        if path is not None and not Path(path).is_file():
            raise TrainError(f"no {name} list {path}; make one with `mlimages label`")
    label_def = _label_def_path(opts)
    if not label_def.is_file():
        raise TrainError(f"no label definitions {label_def}: `mlimages label` writes "
                         "label_def.txt beside the lists; or give --label-def")
    names = listfile.read_label_def(label_def)
    for path in filter(None, (opts.train, opts.val)):
        top = max((e.label for e in listfile.iter_list(path)), default=None)
        if top is None:
            raise TrainError(f"{path}: the list is empty")
        if top >= len(names):
            raise TrainError(f"{path}: label {top} but {label_def} defines only "
                             f"{len(names)} classes (0..{len(names) - 1})")
    return names, read_input_mean(opts.mean)


def read_input_mean(path):
    """The mean image a run centres its inputs with.

    Args:
        path: a ``mean.npy`` of ``mlimages mean`` (read by :func:`mlimages.mean.read_mean`),
            the folder of ``mlimages mean --out DIR`` (its ``mean.npy``), or a Caffe
            ``.binaryproto`` (BGR; :func:`mlimages.training.caffe.caffe_mean_to_rgb`).

    Returns:
        float32 (3, H, W), RGB, 0..255.

    Raises:
        TrainError: the file cannot be read, or is not a three-channel mean.
    """
    try:
        if str(path).endswith(".binaryproto"):
            mean = caffe_mean_to_rgb(path)
        else:
            mean = read_mean(mean_npy(path))
    except MeanError as e:
        raise TrainError(str(e)) from None
    except (OSError, ValueError) as e:  # the Caffe reader's
        raise TrainError(f"cannot read the mean {path}: {e}") from None
    if mean.shape[0] != 3:
        raise TrainError(f"{path}: expected a (3, H, W) mean image, got {mean.shape}")
    return mean


def make_iterators(opts, crop, mean, ranks=None):
    """The one place iterators are made: BatchLoaders for training and validation.

    Args:
        opts (TrainOptions): lists, root, batch sizes, seed, and ``size``/``resize`` as
            found: give ``Inputs.opts`` of :func:`check_inputs`.
        crop (int): input side.  mean: float32 (3, S, S), from :func:`read_input_mean`.
        ranks (mlimages.training.distributed.Ranks or None): when given, each list is first
            scattered and this rank loads its share only.

    Returns:
        (train iterator, validation iterator or None); both yield batches (x, t) with x
        float32 (B, 3, crop, crop) and t int32 (B,) (with ``normalize_on_device`` the loader's
        ``RawBatch``); give them :func:`mlimages.loader.converter`.
    """
    train_list, val_list = run_lists(opts, lead=ranks is None or ranks.rank == 0)
    if ranks is not None:
        from mlimages.training.distributed import scatter_list
        train_list = scatter_list(ranks, train_list, opts.out, "train", seed=opts.seed)
        if val_list:
            val_list = scatter_list(ranks, val_list, opts.out, "val", equal=False)
    # One cache folder for both lists: each list gets its own files, named after it.
    images = {"cache": opts.cache, "resize": opts.resize or DEFAULT_RESIZE,
              "normalize": "device" if opts.normalize_on_device else "host"}
    train_iter = BatchLoader(train_list, opts.root, mean, crop, opts.batchsize,
                             train=True, seed=opts.seed, repeat=True, **images)
    val_iter = None
    if val_list:
        val_iter = BatchLoader(val_list, opts.root, mean, crop, opts.val_batchsize,
                               train=False, repeat=False, **images)
    return train_iter, val_iter


def run_lists(opts, lead=True):
    """The train and val lists the loaders read: those given, or with ``rewrite_prefix`` their
    rewritten copies ``OUT/lists/train.txt`` and ``val.txt`` (written here when ``lead``).

    Returns:
        (train list, val list or None), as str.
    """
    if not opts.rewrite_prefix:
        return opts.train, opts.val
    paths = []
    for name in ("train", "val"):
        given = getattr(opts, name)
        path = None if given is None else str(Path(opts.out) / LISTS / f"{name}.txt")
        if path is not None and lead:
            listfile.write_list(path, rewritten(listfile.read_list(given), opts.rewrite_prefix))
        paths.append(path)
    return tuple(paths)
