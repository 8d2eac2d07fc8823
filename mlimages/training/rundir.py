"""A training run's output folder: what is written there, and how it is read back.

``mlimages train --out OUT`` writes into ``OUT``:

======================  ==================================================================
``args.json``           the options (and image size, crop, classes) of the run
``label_def.txt``       the class names, index order (copied)
``mean.npy``            the mean image the inputs were centred with (copied)
``log``, ``log.csv``    loss/accuracy (train and val), lr, every N iterations and epoch
``loss.png`` ...        curves (``accuracy.png`` too)
``snapshot_iter_N``     the trainer (model, optimizer, loader position, logs), last K kept
``model_iter_N.npz``    the network alone at the same moments, last K kept
``model.npz``           the network at the end (or when stopped): what ``predict`` reads
======================  ==================================================================

Writing: :func:`write_run_files` (the first three, when a run starts), :func:`snapshot_extensions`
(the snapshots), :func:`save_model` (``model.npz``); the logs and curves are
:mod:`mlimages.training.monitor`'s.  Reading: :func:`load_options` (``--resume``),
:func:`latest_snapshot`, :func:`earlier_snapshot`, and :func:`load_run` + :func:`load_network`
(everything ``predict`` needs). Every ``.npz`` is read without pickle
(:mod:`mlimages.training.npz`); a damaged file is a one-line :class:`RunDirError` or
TrainError naming it.
"""

import dataclasses
import io
import json
import re
import shutil
from pathlib import Path
from typing import NamedTuple

import numpy

from mlimages import __version__, listfile
from mlimages._chainer import chainer, extensions
from mlimages._fs import atomic_write_bytes, atomic_write_text
from mlimages.defaults import DEFAULT_RESIZE, RESIZE_MODES
from mlimages.mean import read_mean, write_mean_npy
from mlimages.models import build_classifier
from mlimages.models.sizes import check_crop
from mlimages.training.npz import NpzError, load_into
from mlimages.training.options import TrainError, TrainOptions

ARGS, LABEL_DEF, MEAN, MODEL = "args.json", "label_def.txt", "mean.npy", "model.npz"
#: Every file a run writes under a fixed name (the snapshots are numbered).
RUN_FILES = (ARGS, LABEL_DEF, MEAN, MODEL, "log", "log.csv", "loss.png", "accuracy.png")
SNAPSHOT = "snapshot_iter_{.updater.iteration}"
MODEL_SNAPSHOT = "model_iter_{.updater.iteration}.npz"
_SNAPSHOT_RE = re.compile(r"^snapshot_iter_(\d+)$")


class RunDirError(TrainError):
    """A folder that is not a (complete) ``mlimages train`` output folder; names what is missing."""


class RunFolder(NamedTuple):
    """What :func:`load_run` read from a run folder.

    Attributes:
        out (Path): the folder.  arch (str): the network's name in ``mlimages.models``.
        names (list of str): class names, index order.
        mean: float32 (3, S, S), the training mean; S is the image size used in training.
        crop (int): the network's input side.  resize (str): how images were brought to S x S.
        model (Path): the network's weights (``model.npz``, ``save_npz`` format).
    """

    out: Path
    arch: str
    names: list
    mean: object
    crop: int
    resize: str
    model: Path


# ------------------------------------------------------------------ written when a run starts
def write_run_files(opts, names, mean, crop, ranks=1):
    """Write ``label_def.txt``, ``mean.npy`` and ``args.json`` into ``opts.out`` (made if needed).

    Args:
        opts (TrainOptions): saved with absolute paths, so that ``--resume`` works from anywhere.
        names (list of str): class names.  mean: float32 (3, S, S).  crop (int): input side.
        ranks (int): processes of a distributed run (the effective batch is batchsize x ranks).
    """
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    listfile.write_label_def(out / LABEL_DEF, names)
    write_mean_npy(out / MEAN, mean)
    record = {"options": _absolute(opts).to_json(), "crop": crop,
              "image_size": list(mean.shape[1:]), "resize": opts.resize or DEFAULT_RESIZE,
              "n_classes": len(names), "mlimages": __version__,
              "ranks": ranks, "effective_batchsize": opts.batchsize * ranks}
    atomic_write_text(out / ARGS, json.dumps(record, indent=2) + "\n")


def _absolute(opts):
    """``opts`` with absolute paths, so that ``--resume`` works from any working folder."""
    paths = {name: str(Path(value).absolute()) for name in ("train", "val", "root", "mean",
                                                             "label_def", "out")
             if (value := getattr(opts, name)) is not None}
    tune = opts.finetune
    if tune.init_model:
        tune = dataclasses.replace(tune, init_model=str(Path(tune.init_model).absolute()))
    return dataclasses.replace(opts, finetune=tune, **paths)


# ------------------------------------------------------------------ reading a folder back
def _read_args(out):
    """args.json as a dict with an "options" dict; RunDirError naming the file otherwise."""
    path = Path(out) / ARGS
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RunDirError(f"cannot read {path} ({e}); is {out} a `mlimages train` output "
                          "folder?") from None
    if not isinstance(record, dict) or not isinstance(record.get("options"), dict):
        raise RunDirError(f"{path} has no \"options\" object: it is damaged or not the "
                          f"args.json of `mlimages train`; restore it or start the run again")
    return record


def _options(record, out):
    try:
        return TrainOptions(**record["options"])
    except (TypeError, ValueError) as e:  # an unknown key, a value of another type or range
        raise RunDirError(f"{Path(out) / ARGS}: its options do not make a run ({e}); restore "
                          "the file or start the run again") from None


def load_options(out):
    """The TrainOptions a run in ``out`` was started with (its ``args.json``).

    Raises:
        RunDirError (a TrainError): ``args.json`` is missing, damaged or not a run's.
    """
    return _options(_read_args(out), out)


def load_run(out):
    """Read what classifying with the run in ``out`` needs (:func:`load_network`: the network).

    Returns:
        RunFolder.

    Raises:
        RunDirError: a file is missing or ``args.json`` is damaged.
        TrainError: the mean does not fit (:func:`check_mean_size`).
        mlimages.mean.MeanError: ``mean.npy`` cannot be read.
    """
    out = Path(out)
    missing = [name for name in (ARGS, LABEL_DEF, MEAN, MODEL) if not (out / name).is_file()]
    if missing:
        raise RunDirError(f"{out}: missing {', '.join(missing)}; give the --out folder of "
                          f"`mlimages train` ({MODEL} is written when a run ends or stops)")
    record = _read_args(out)
    opts = _options(record, out)
    crop, resize = record.get("crop"), record.get("resize", DEFAULT_RESIZE)
    if type(crop) is not int or crop < 1 or resize not in RESIZE_MODES:
        raise RunDirError(f"{out / ARGS}: crop {crop!r}, resize {resize!r}: expected a "
                          f"positive integer and one of {', '.join(RESIZE_MODES)}; the file "
                          "is damaged")
    check_crop(opts.arch, crop)
    mean = read_mean(out / MEAN)
    check_mean_size(mean, crop, out / MEAN, record.get("image_size"))
    return RunFolder(out, opts.arch, listfile.read_label_def(out / LABEL_DEF), mean, crop,
                     resize, out / MODEL)


def check_mean_size(mean, crop, path, image_size=None):
    """Raise TrainError unless ``mean`` ((C, S, S)) is square, S >= ``crop`` and, when given,
    S is the run's recorded ``image_size``: images are brought to S x S, then cropped."""
    _, h, w = mean.shape
    if h != w or h < crop or (image_size is not None and list(image_size) != [h, w]):
        wanted = "" if image_size is None else f", {'x'.join(map(str, image_size))} (args.json)"
        raise TrainError(f"{path}: the mean is {h}x{w}; it must be square{wanted} and at "
                         f"least the crop {crop}: make it with `mlimages mean --size S` at "
                         "the size training brings images to")


def load_network(run):
    """The network of ``run`` (a :class:`RunFolder`), trained, on the CPU; read without pickle.

    Raises:
        RunDirError: ``model.npz`` is damaged, not plain arrays, or not this network's.
    """
    predictor = build_classifier(run.arch, len(run.names)).predictor
    materialise(predictor, run.crop)
    try:
        load_into(run.model, predictor,
                  f"the {run.arch} network with {len(run.names)} classes (args.json)")
    except NpzError as e:
        raise RunDirError(str(e)) from None
    return predictor


def materialise(predictor, crop):
    """Run ``predictor`` once on a zero batch so that its lazily sized layers get weights
    (loading by shape, the optimizer state and snapshots all need them)."""
    x = numpy.zeros((1, 3, crop, crop), numpy.float32)
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        predictor(x)


# ------------------------------------------------------------------ snapshots and the model
def snapshot_extensions(predictor, keep):
    """The trainer and network snapshot extensions, each keeping its last ``keep`` files.

    Returns:
        list of two Chainer extensions (``snapshot_iter_N``, ``model_iter_N.npz``): register
        them with a trigger, or call one with the trainer to write it now.
    """
    return [extensions.snapshot(filename=SNAPSHOT, savefun=_save_npz_uncompressed,
                                n_retains=keep),
            extensions.snapshot_object(predictor, MODEL_SNAPSHOT,
                                       savefun=_save_npz_uncompressed, n_retains=keep)]


def snapshot_path(out, trainer):
    """Where the trainer snapshot of ``trainer``'s current iteration is (or would be)."""
    return Path(out) / SNAPSHOT.format(trainer)


def _snapshots(folder):
    """[(iteration, path)] of the trainer snapshots in ``folder``."""
    return [(int(m.group(1)), p) for p in Path(folder).iterdir()
            if (m := _SNAPSHOT_RE.match(p.name)) and p.is_file()]


def latest_snapshot(path):
    """``path`` itself if it is a file, else the snapshot with the highest iteration in it.

    Raises:
        TrainError: no such file or folder, or no snapshot in the folder.
    """
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise TrainError(f"--resume {path}: no such snapshot file or output folder")
    found = _snapshots(path)
    if not found:
        raise TrainError(f"--resume {path}: no snapshot_iter_N file in it (the run stopped "
                         "before its first snapshot; start it again without --resume)")
    return max(found)[1]


def earlier_snapshot(path):
    """The snapshot before the snapshot ``path`` (by iteration) in its folder, or None."""
    m = _SNAPSHOT_RE.match(Path(path).name)
    found = [s for s in _snapshots(Path(path).parent) if m and s[0] < int(m.group(1))]
    return max(found)[1] if found else None


def latest_snapshot_or_none(out):
    """:func:`latest_snapshot` of the folder ``out``, or None when it has none."""
    try:
        return latest_snapshot(out)
    except TrainError:
        return None


def remove_partial_snapshots(out):
    """Delete the temporary folders a killed snapshot write leaves (``tmpsnapshot_iter_*``)."""
    for p in Path(out).glob("tmp*_iter_*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def _save_npz_uncompressed(path, obj):
    # Compressing AlexNet's 60 M parameters takes longer than the epoch between snapshots.
    chainer.serializers.save_npz(path, obj, compression=False)


def save_model(path, predictor):
    """Write the network's arrays to ``path`` atomically (``save_npz`` format).

    Returns:
        Path: ``path``.
    """
    buffer = io.BytesIO()
    chainer.serializers.save_npz(buffer, predictor, compression=False)
    return atomic_write_bytes(path, buffer.getvalue())
