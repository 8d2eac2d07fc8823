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
``model.npz``           the network at the end (or when stopped)
``current.json``        which model file was written last (``model.npz`` or a ``model_iter``)
``model_best.npz``      the network at its best validation figure; ``best.json`` says which
======================  ==================================================================

This module owns the folder and the files a run starts with; the snapshots are
:mod:`mlimages.training.snapshots`' and the model files :mod:`mlimages.training.runmodels`'
(written whole, named in ``current.json``; which one ``predict`` uses); the names of both
are imported here, where :data:`RUN_FILES` and :func:`run_outputs` say what a run writes.
A folder that holds a run is not a new run's ``--out`` (:func:`claim_out`): ``--resume``
continues it, ``--overwrite`` first removes what a run writes (:func:`clear_run`), nothing else.

Writing: :func:`write_run_files` (the first three, when a run starts); the logs and curves are
:mod:`mlimages.training.monitor`'s.  Reading: :func:`load_options` (``--resume``) and
:func:`load_run` + :func:`load_network` (everything ``predict`` needs). Every ``.npz`` is read
without pickle (:mod:`mlimages.training.npz`); a damaged file is a one-line
:class:`RunDirError` or TrainError naming it.
"""

import dataclasses
import json
import logging
import shutil
from pathlib import Path
from typing import NamedTuple

import numpy

from mlimages import __version__, listfile
from mlimages._chainer import chainer
from mlimages._fs import atomic_write_text
from mlimages.defaults import DEFAULT_RESIZE, RESIZE_MODES
from mlimages.mean import read_mean, write_mean_npy
from mlimages.models import build_classifier
from mlimages.models.sizes import check_crop
from mlimages.pretrained.registry import is_name as is_pretrained_name
from mlimages.training.npz import NpzError, load_into
from mlimages.training.options import RunDirError, TrainError, TrainOptions
from mlimages.training.runmodels import (BEST, BEST_RECORD, CURRENT, MODEL,  # noqa: F401
                                         MODEL_SNAPSHOT_RE, choose_model, save_model)
from mlimages.training.snapshots import (PARTIAL_RE, SNAPSHOT_RE,  # noqa: F401 (re-exported)
                                         earlier_snapshot, latest_snapshot,
                                         latest_snapshot_or_none, load_snapshot,
                                         remove_partial_snapshots, snapshot_extensions,
                                         snapshot_path)

log = logging.getLogger(__name__)

ARGS, LABEL_DEF, MEAN = "args.json", "label_def.txt", "mean.npy"
#: Every file a run writes under a fixed name (the snapshots are numbered).
RUN_FILES = (ARGS, LABEL_DEF, MEAN, MODEL, CURRENT, BEST, BEST_RECORD, "log", "log.csv",
             "loss.png", "accuracy.png", "curves.png")


class RunFolder(NamedTuple):
    """What :func:`load_run` read from a run folder.

    Attributes:
        out (Path): the folder.  arch (str): the network's name in ``mlimages.models``.
        names (list of str): class names, index order.
        mean: float32 (3, S, S), the training mean; S is the image size used in training.
        crop (int): the network's input side.  resize (str): how images were brought to S x S.
        model (Path): the network's weights (``save_npz`` format), the file
            :func:`~mlimages.training.runmodels.choose_model` chose.
        note (str): that file, and why it was chosen (for the user).
    """

    out: Path
    arch: str
    names: list
    mean: object
    crop: int
    resize: str
    model: Path
    note: str = ""


# ------------------------------------------------------------------ whose folder it is
def run_outputs(out):
    """Everything in ``out`` that a run writes: the files of :data:`RUN_FILES`, the numbered
    snapshots, the folders of cut-short snapshot writes; sorted by name.  (A distributed
    run's ``.ranks`` folder is not listed: every such run rewrites it, while all ranks read it.)
    """
    out = Path(out)
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if (
        not p.is_dir() and (p.name in RUN_FILES or SNAPSHOT_RE.match(p.name)
                            or MODEL_SNAPSHOT_RE.match(p.name))) or (
        p.is_dir() and PARTIAL_RE.match(p.name)))


def claim_out(out, resume=None, overwrite=False):
    """Check, before any work, that a run may write into ``out``.

    Args:
        resume: the snapshot or folder the run continues, if any: a run may continue in the
            folder it comes from.
        overwrite (bool): a run may replace the run in ``out`` (see :func:`clear_run`).

    Returns:
        list of Path: what to remove (with :func:`clear_run`) before the run writes; empty
        unless ``overwrite`` and ``out`` holds a run.

    Raises:
        TrainError: ``out`` holds a run that the run does not continue and ``overwrite`` is
            not set; or ``overwrite`` would remove the snapshot ``resume`` continues from.
    """
    old = run_outputs(out)
    files = [p for p in old if not p.is_dir()]  # a run's folders alone hold no run
    continues = resume is not None and _folder_of(resume) == Path(out).resolve()
    if overwrite and continues:
        raise TrainError(f"--overwrite with --resume {resume}: it would remove the snapshot "
                         "the run continues from; give one of them")
    if not files or continues or overwrite:
        return old if overwrite else []
    shown = ", ".join(p.name for p in files[:4]) + (f" and {len(files) - 4} more"
                                                     if len(files) > 4 else "")
    raise TrainError(f"--out {out} already holds a run ({shown}): continue it with --resume "
                     f"{out}, start over with --overwrite (removes the old run's files), or "
                     "give another --out")


def _folder_of(resume):
    path = Path(resume)
    return (path if path.is_dir() else path.parent).resolve()


def clear_run(out, paths):
    """Remove ``paths`` (the old run in ``out``, from :func:`claim_out`) and say so."""
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)
    if paths:
        log.warning("--overwrite: removed %d files of the previous run in %s: %s", len(paths),
                    out, ", ".join(p.name for p in paths))


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
    if tune.init_model and not is_pretrained_name(tune.init_model):  # a name stays a name
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


def load_run(out, model=None):
    """Read what classifying with the run in ``out`` needs (:func:`load_network`: the network).

    Args:
        model: which model file: None (the best when the run kept one, else the last),
            "best", "last" or a path (:func:`~mlimages.training.runmodels.choose_model`).

    Returns:
        RunFolder.

    Raises:
        RunDirError: a file is missing, ``args.json`` is damaged, or ``model`` names no
            model of the run.
        TrainError: the mean does not fit (:func:`check_mean_size`).
        mlimages.mean.MeanError: ``mean.npy`` cannot be read.
    """
    out = Path(out)
    chosen = choose_model(out, model)
    missing = [name for name in (ARGS, LABEL_DEF, MEAN) if not (out / name).is_file()]
    if not chosen.path.is_file():
        missing.append(chosen.path.name if chosen.path.parent == out else str(chosen.path))
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
                     resize, chosen.path, chosen.note)


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
