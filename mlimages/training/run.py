"""``mlimages train``: Chainer's Trainer, wired for runs that survive anything.

One call, :func:`train`, does what Chainer's ``examples/imagenet/train_imagenet.py`` does, plus
what a long run needs::

    lists/train.txt --> BatchLoader (random crop, flip, - mean, / 255) --+
    lists/val.txt   --> BatchLoader (center crop, - mean, / 255) --------+--> Trainer
                                  L.Classifier(models.ARCHS[arch](n)) --+    MomentumSGD

and writes into ``out``:

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

With ``distributed=True`` (under ``mpiexec``) every rank trains on its share of the lists and
the gradients are averaged every step (see :mod:`mlimages.training.distributed`); rank 0 alone writes.

Sizes are checked before anything runs (:func:`mlimages.models.sizes.check_crop`); a NaN or
infinite loss stops the run without a snapshot of the broken weights; a stop request (the CLI
sets one on Ctrl-C) or a KeyboardInterrupt ends the run with a snapshot; ``resume`` continues
from any snapshot (a directory: its latest) exactly where it stopped.
"""

import dataclasses
import importlib.util
import io
import json
import logging
import re
import shutil
from pathlib import Path
from typing import NamedTuple

import numpy

from mlimages import __version__, listfile
from mlimages._chainer import chainer, extensions, training
from mlimages._fs import atomic_write_bytes, atomic_write_text
from mlimages.errors import MlimagesError
from mlimages.training.options import TrainError, TrainOptions  # noqa: F401 (re-exported)
from mlimages.training.finetune import (caffe_mean_to_rgb, freeze, frozen_layers,
                               load_matching, read_weights, scale_pretrained_lr)
from mlimages.defaults import DEFAULT_RESIZE
from mlimages.loader import BatchLoader, converter
from mlimages.models import build_classifier, get_arch
from mlimages.training.monitor import (AnyOf, GlobalRandomState, NonFiniteLoss, StopOnNonFinite,
                              StopWhen, add_monitoring)
from mlimages.models.sizes import check_crop

SNAPSHOT = "snapshot_iter_{.updater.iteration}"
MODEL_SNAPSHOT = "model_iter_{.updater.iteration}.npz"
_SNAPSHOT_RE = re.compile(r"^snapshot_iter_(\d+)$")
log = logging.getLogger(__name__)


class TrainingDiverged(MlimagesError, RuntimeError):
    """The loss became NaN or infinite; the run stopped before snapshotting bad weights."""


class GpuError(MlimagesError, RuntimeError):
    """``--gpu`` was asked for but CuPy or CUDA cannot be used."""


class TrainResult(NamedTuple):
    """What a run did.

    Attributes: out (Path), iteration, epoch (float, epoch_detail), finished (reached
    ``epoch``), interrupted (stopped on request or KeyboardInterrupt), last (the last log
    entry, dict), snapshot (Path of the latest trainer snapshot, or None), loaded (LoadReport
    or None), frozen (list of layer names).
    """

    out: Path
    iteration: int
    epoch: float
    finished: bool
    interrupted: bool
    last: dict
    snapshot: "Path | None"
    loaded: object
    frozen: list
    rank: int = 0
    ranks: int = 1
    batchsize: int = 32
    lr: float = 0.01


# ------------------------------------------------------------------ inputs
def check_gpu(gpu):
    """The Chainer device for ``gpu`` (-1: CPU); raises GpuError saying what to install.

    It never falls back to the CPU: a run asked to use a GPU either gets one or stops.
    """
    if gpu < 0:
        return chainer.get_device("@numpy")
    install = ("install CuPy for your CUDA version: pip install 'mlimages[gpu]' (cupy-cuda12x, "
               "CUDA 12) or 'mlimages[gpu-cuda13]' (cupy-cuda13x, CUDA 13); `nvidia-smi` shows "
               "the CUDA version of the driver, `mlimages info` what Python sees")
    if importlib.util.find_spec("cupy") is None:
        raise GpuError(f"--gpu {gpu}: CuPy is not installed; {install}")
    from chainer.backends import cuda
    if not cuda.available:
        reason = str(getattr(cuda, "_resolution_error", "") or "see `mlimages info`")
        raise GpuError(f"--gpu {gpu}: CuPy is installed but Chainer cannot use it "
                       f"({reason.strip().splitlines()[0]}). If CUDA libraries are missing, "
                       "install the CUDA Toolkit or pip install 'cupy-cuda12x[ctk]'; otherwise "
                       + install)
    try:
        count = cuda.cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError when there is no usable driver
        raise GpuError(f"--gpu {gpu}: CuPy cannot reach a CUDA device ({e}); check the NVIDIA "
                       "driver with `nvidia-smi`") from None
    if not 0 <= gpu < count:
        raise GpuError(f"--gpu {gpu}: this machine has {count} CUDA device(s), numbered "
                       f"0..{count - 1}")
    return chainer.get_device(f"@cupy:{gpu}")


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
    return names, read_mean(opts.mean)


def read_mean(path):
    """The mean image as float32 (3, H, W), RGB, 0..255: a ``mean.npy`` of ``mlimages mean``
    or a Caffe ``.binaryproto`` (BGR, converted to RGB)."""
    try:
        if str(path).endswith(".binaryproto"):
            return caffe_mean_to_rgb(path)
        mean = numpy.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise TrainError(f"cannot read the mean {path}: {e}; make it with "
                         "`mlimages mean LIST --root ROOT --out mean.png`") from None
    if mean.ndim != 3 or mean.shape[0] != 3:
        raise TrainError(f"{path}: expected a (3, H, W) mean image, got {mean.shape}")
    return mean.astype(numpy.float32)


def make_iterators(opts, crop, mean, ranks=None):
    """The one place iterators are made: BatchLoaders for training and validation.

    Args:
        opts (TrainOptions): lists, root, batch sizes, seed.
        crop (int): input side.  mean: float32 (3, S, S), from :func:`read_mean`.
        ranks (mlimages.training.distributed.Ranks or None): when given, each list is first
            scattered and this rank loads its share only.

    Returns:
        (train iterator, validation iterator or None); both yield batches (x, t) with x
        float32 (B, 3, crop, crop) and t int32 (B,); give them :func:`mlimages.loader.converter`.
    """
    train_list, val_list = opts.train, opts.val
    if ranks is not None:
        from mlimages.training.distributed import scatter_list
        train_list = scatter_list(ranks, opts.train, opts.out, "train", seed=opts.seed)
        if opts.val:
            val_list = scatter_list(ranks, opts.val, opts.out, "val", equal=False)
    # One cache folder for both lists: each list gets its own files, named after it.
    train_iter = BatchLoader(train_list, opts.root, mean, crop, opts.batchsize,
                             train=True, seed=opts.seed, repeat=True, cache=opts.cache)
    val_iter = None
    if val_list:
        val_iter = BatchLoader(val_list, opts.root, mean, crop, opts.val_batchsize,
                               train=False, repeat=False, cache=opts.cache)
    return train_iter, val_iter


# ------------------------------------------------------------------ model
def build_model(opts, n_classes, crop, device):
    """The classifier, materialised at ``crop``, with fine-tuning applied, on ``device``.

    Returns:
        (L.Classifier, LoadReport or None, list of frozen layer names).
    """
    model = build_classifier(opts.arch, n_classes)
    # Run once so that the lazily sized layers (in_size None) get their weights: loading
    # by shape, the optimizer state and snapshots all need them.
    x = numpy.zeros((1, 3, crop, crop), numpy.float32)
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        model.predictor(x)
    report = None
    if opts.finetune.init_model:
        report = load_matching(model.predictor, read_weights(opts.finetune.init_model))
    frozen = frozen_layers(model.predictor, opts.finetune)
    model.to_device(device)
    return model, report, frozen


def make_optimizer(opts, model, report, frozen):
    optimizer = chainer.optimizers.MomentumSGD(lr=opts.lr, momentum=opts.momentum)
    optimizer.setup(model)
    freeze(model.predictor, frozen)  # after setup: it switches off the update rules setup made
    if opts.weight_decay:
        optimizer.add_hook(chainer.optimizer_hooks.WeightDecay(opts.weight_decay))
    if report is not None:
        pretrained = [n for n in report.loaded if n not in frozen]
        scale_pretrained_lr(model.predictor, pretrained, opts.finetune.pretrained_lr_scale)
    return optimizer


# ------------------------------------------------------------------ snapshots
def latest_snapshot(path):
    """``path`` itself if it is a file, else the snapshot with the highest iteration in it."""
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


def remove_partial_snapshots(out):
    """Delete the temporary folders a killed snapshot write leaves (``tmpsnapshot_iter_*``)."""
    for p in Path(out).glob("tmp*_iter_*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def _save_npz_uncompressed(path, obj):
    # Compressing AlexNet's 60 M parameters takes longer than the epoch between snapshots.
    chainer.serializers.save_npz(path, obj, compression=False)


def save_model(path, predictor):
    """Write the network's arrays to ``path`` atomically (``save_npz`` format)."""
    buffer = io.BytesIO()
    chainer.serializers.save_npz(buffer, predictor, compression=False)
    return atomic_write_bytes(path, buffer.getvalue())


def _latest_or_none(out):
    try:
        return latest_snapshot(out)
    except TrainError:
        return None


# ------------------------------------------------------------------ the run
def _write_run_files(opts, names, mean, crop, n_classes, size=1):
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    listfile.write_label_def(out / "label_def.txt", names)
    buffer = io.BytesIO()
    numpy.save(buffer, mean)
    atomic_write_bytes(out / "mean.npy", buffer.getvalue())
    record = {"options": _absolute(opts).to_json(), "crop": crop,
              "image_size": list(mean.shape[1:]), "resize": DEFAULT_RESIZE,
              "n_classes": n_classes, "mlimages": __version__,
              "ranks": size, "effective_batchsize": opts.batchsize * size}
    atomic_write_text(out / "args.json", json.dumps(record, indent=2) + "\n")


def _absolute(opts):
    """``opts`` with absolute paths, so that ``--resume`` works from any working folder."""
    paths = {name: str(Path(value).absolute()) for name in ("train", "val", "root", "mean",
                                                             "label_def", "out")
             if (value := getattr(opts, name)) is not None}
    tune = opts.finetune
    if tune.init_model:
        tune = dataclasses.replace(tune, init_model=str(Path(tune.init_model).absolute()))
    return dataclasses.replace(opts, finetune=tune, **paths)


def load_options(out):
    """The TrainOptions a run in ``out`` was started with (its ``args.json``)."""
    path = Path(out) / "args.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise TrainError(f"cannot read {path} ({e}); is {out} a `mlimages train` output "
                         "folder?") from None
    return TrainOptions(**record["options"])


def train(opts, resume=None, stop=None, progress=True, distributed=False):
    """Train (or resume) a network as ``opts`` says; see the module docstring for outputs.

    Args:
        opts (TrainOptions): the run.
        resume: a trainer snapshot, or an output folder (its latest snapshot).
        stop: an object with ``is_set()`` (a ``threading.Event``); when set, the run ends
            after the current iteration with a snapshot.  The CLI sets it on Ctrl-C.
        progress (bool): print the table of log lines and a progress bar.
        distributed (bool): one rank of an ``mpiexec`` job (:mod:`mlimages.training.distributed`):
            ``opts.batchsize`` is per rank; a failure on any rank ends every rank.

    Returns:
        TrainResult.

    Raises:
        mlimages.training.distributed.DistributedError: ``distributed`` without mpi4py.
    """
    if not distributed:
        return _train(opts, resume, stop, progress, None)
    from mlimages.training.distributed import AnyRankStop, abort_on_error, communicator, cpu_share
    ranks = communicator(opts.gpu)
    with abort_on_error(ranks), cpu_share(ranks, opts.gpu):
        return _train(opts, resume, AnyRankStop(stop, ranks), progress and ranks.rank == 0,
                      ranks)


def _train(opts, resume, stop, progress, ranks):
    lead = ranks is None or ranks.rank == 0  # the one process that writes
    size = 1 if ranks is None else ranks.size
    names, mean = read_inputs(opts)
    crop = opts.crop or get_arch(opts.arch).insize
    check_crop(opts.arch, crop)
    # One process per GPU: under MPI, rank k of a node drives that node's GPU k.
    device = check_gpu(opts.gpu if ranks is None or opts.gpu < 0 else ranks.intra_rank)
    snapshot = latest_snapshot(resume) if resume is not None else None
    if opts.seed is not None:
        # Chainer draws initial weights and dropout masks from NumPy's global generator.
        numpy.random.seed(opts.seed)
    model, report, frozen = build_model(opts, len(names), crop, device)
    _log_finetune(opts, report, frozen)
    optimizer = make_optimizer(opts, model, report, frozen)
    if ranks is not None:
        from mlimages.training.distributed import multi_node_optimizer
        optimizer = multi_node_optimizer(optimizer, ranks)
        if lead:
            log.info("distributed over %d ranks: batch %d per rank, effective batch %d, lr %g "
                     "(the linear-scaling rule suggests lr %g)", size, opts.batchsize,
                     opts.batchsize * size, opts.lr, opts.lr * size)
    train_iter, val_iter = make_iterators(opts, crop, mean, ranks)
    updater = training.updaters.StandardUpdater(
        train_iter, optimizer, converter=converter, device=device)
    trainer = training.Trainer(updater, StopWhen(opts.epoch, stop), out=opts.out)
    if lead:
        _write_run_files(opts, names, mean, crop, len(names), size)
    snapshots = _extend(trainer, opts, model, val_iter, device, progress, ranks, lead)
    if snapshot is not None:
        if lead:
            remove_partial_snapshots(opts.out)
        try:
            chainer.serializers.load_npz(str(snapshot), trainer)
        except (KeyError, ValueError, OSError) as e:
            raise TrainError(f"cannot resume from {snapshot}: it does not match this run "
                             f"(--arch {opts.arch}, {len(names)} classes, crop {crop}) or is "
                             f"damaged ({type(e).__name__}: {e})") from None
        log.info("resumed from %s at iteration %d", snapshot, updater.iteration)
    interrupted = _run(trainer)
    finished = updater.epoch_detail >= opts.epoch
    if (interrupted or not finished) and not (Path(opts.out) / SNAPSHOT.format(trainer)).exists():
        for ext in snapshots:
            ext(trainer)
    entries = []
    if lead:
        save_model(Path(opts.out) / "model.npz", model.predictor)
        entries = trainer.get_extension("LogReport").log
    return TrainResult(Path(opts.out), updater.iteration, updater.epoch_detail, finished,
                       interrupted or not finished, entries[-1] if entries else {},
                       _latest_or_none(opts.out), report, frozen,
                       0 if ranks is None else ranks.rank, size, opts.batchsize, opts.lr)


def _extend(trainer, opts, model, val_iter, device, progress, ranks=None, lead=True):
    """Register every extension; returns the two snapshot extensions (none unless ``lead``:
    of the ranks of a distributed run, only rank 0 logs, plots and snapshots)."""
    every = (opts.log_interval, "iteration"), (1, "epoch")
    if val_iter is not None:
        evaluator = extensions.Evaluator(val_iter, model, converter=converter, device=device)
        if ranks is not None:
            from mlimages.training.distributed import multi_node_evaluator
            evaluator = multi_node_evaluator(evaluator, ranks)
        trainer.extend(evaluator, name="validation", trigger=(1, "epoch"))
    trainer.extend(extensions.ExponentialShift("lr", opts.lr_decay),
                   trigger=(opts.lr_decay_every, "epoch"))
    trainer.extend(StopOnNonFinite())
    trainer.extend(GlobalRandomState())
    if not lead:
        return []
    add_monitoring(trainer, AnyOf(*every), lambda: AnyOf(*every), progress=progress)
    snapshots = [
        extensions.snapshot(filename=SNAPSHOT, savefun=_save_npz_uncompressed,
                            n_retains=opts.keep),
        extensions.snapshot_object(model.predictor, MODEL_SNAPSHOT,
                                   savefun=_save_npz_uncompressed, n_retains=opts.keep)]
    for i, ext in enumerate(snapshots):
        trainer.extend(ext, name=f"snapshot{i}",
                       trigger=AnyOf((opts.snapshot_interval, "iteration"), (1, "epoch")))
    return snapshots


def _run(trainer):
    """Run the trainer; returns True if a KeyboardInterrupt ended it."""
    try:
        trainer.run(show_loop_exception_msg=False)
    except KeyboardInterrupt:
        # Without the CLI's handler, Ctrl-C lands mid-iteration: the batch being computed
        # is lost, everything before it is in the snapshot written next.
        return True
    except NonFiniteLoss as e:
        raise TrainingDiverged(
            f"the training loss became {e.value} at iteration {e.iteration} (epoch "
            f"{e.epoch:.2f}); stopped without saving these weights. Lower --lr, check that "
            "the mean image belongs to this data, or resume from the last good snapshot: "
            f"{_latest_or_none(trainer.out)}") from None
    return False


def _log_finetune(opts, report, frozen):
    if report is not None:
        log.info("loaded from %s: %s", opts.finetune.init_model, ", ".join(report.loaded) or "nothing")
        for layer, (have, want) in report.shapes.items():
            log.info("re-initialised %s (shapes differ: weights file %s, network %s)",
                     layer, have, want)
        if report.fresh:
            log.info("not in the weights file, initialised fresh: %s", ", ".join(report.fresh))
    if frozen:
        log.info("frozen (no updates): %s", ", ".join(frozen))


def summary(result):
    """A few lines on what a run did, for the CLI."""
    state = ("finished" if result.finished else "stopped early") + (
        " (interrupted)" if result.interrupted and result.finished else "")
    last = result.last
    metrics = "  ".join(f"{k}={last[k]:.4g}" for k in (
        "main/loss", "main/accuracy", "validation/main/loss", "validation/main/accuracy")
        if k in last)
    lines = [f"{state} at iteration {result.iteration}, epoch {result.epoch:.2f}: {metrics}"]
    if result.ranks > 1:
        lines.append(f"distributed over {result.ranks} ranks: batch {result.batchsize} per "
                     f"rank, effective batch {result.batchsize * result.ranks}, lr "
                     f"{result.lr:g} (the linear-scaling rule suggests lr "
                     f"{result.lr * result.ranks:g})")
    if result.loaded is not None:
        lines.append("loaded: " + (", ".join(result.loaded.loaded) or "nothing"))
        lines.append("re-initialised: " + (", ".join(result.loaded.reinitialised) or "none"))
    if result.frozen:
        lines.append("frozen: " + ", ".join(result.frozen))
    lines.append(f"outputs in {result.out}/: model.npz, log, log.csv, loss.png, "
                 "accuracy.png, args.json")
    if result.snapshot:
        lines.append(f"latest snapshot: {result.snapshot} (continue with --resume "
                     f"{result.out})")
    return "\n".join(lines)
