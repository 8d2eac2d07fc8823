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
:func:`latest_snapshot`, and :func:`load_run` (everything ``predict`` needs).
"""

import dataclasses
import io
import json
import re
import shutil
from pathlib import Path
from typing import NamedTuple

from mlimages import __version__, listfile
from mlimages._chainer import chainer, extensions
from mlimages._fs import atomic_write_bytes, atomic_write_text
from mlimages.defaults import DEFAULT_RESIZE
from mlimages.mean import read_mean, write_mean_npy
from mlimages.training.options import TrainError, TrainOptions

ARGS, LABEL_DEF, MEAN, MODEL = "args.json", "label_def.txt", "mean.npy", "model.npz"
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
              "image_size": list(mean.shape[1:]), "resize": DEFAULT_RESIZE,
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
    path = Path(out) / ARGS
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RunDirError(f"cannot read {path} ({e}); is {out} a `mlimages train` output "
                          "folder?") from None


def load_options(out):
    """The TrainOptions a run in ``out`` was started with (its ``args.json``).

    Raises:
        RunDirError (a TrainError): ``args.json`` is missing or cannot be read.
    """
    return TrainOptions(**_read_args(out)["options"])


def load_run(out):
    """Read what classifying with the run in ``out`` needs (not the network itself).

    Returns:
        RunFolder.

    Raises:
        RunDirError: a file is missing or ``args.json`` cannot be read.
        mlimages.mean.MeanError: ``mean.npy`` cannot be read.
    """
    out = Path(out)
    missing = [name for name in (ARGS, LABEL_DEF, MEAN, MODEL) if not (out / name).is_file()]
    if missing:
        raise RunDirError(f"{out}: missing {', '.join(missing)}; give the --out folder of "
                          f"`mlimages train` ({MODEL} is written when a run ends or stops)")
    record = _read_args(out)
    return RunFolder(out, record["options"]["arch"], listfile.read_label_def(out / LABEL_DEF),
                     read_mean(out / MEAN), int(record["crop"]),
                     record.get("resize", DEFAULT_RESIZE), out / MODEL)


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
    found = [(int(m.group(1)), p) for p in path.iterdir()
             if (m := _SNAPSHOT_RE.match(p.name)) and p.is_file()]
    if not found:
        raise TrainError(f"--resume {path}: no snapshot_iter_N file in it (the run stopped "
                         "before its first snapshot; start it again without --resume)")
    return max(found)[1]


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
