"""``mlimages train``: Chainer's Trainer, wired for runs that survive anything.

One call, :func:`train`, does what Chainer's ``examples/imagenet/train_imagenet.py`` does, plus
what a long run needs::

    lists/train.txt --> BatchLoader (random crop, flip, - mean, / 255) --+
    lists/val.txt   --> BatchLoader (center crop, - mean, / 255) --------+--> Trainer
                                  L.Classifier(models.ARCHS[arch](n)) --+    MomentumSGD

This module wires; each step is another module's: the inputs, checked before anything is
written (:mod:`~mlimages.training.inputs`, the device by :mod:`~mlimages.training.device`),
start weights and frozen layers (:mod:`~mlimages.training.finetune`), logs, plots and stops
(:mod:`~mlimages.training.monitor`), MPI (:mod:`~mlimages.training.distributed`), and the
output folder, its files and snapshots (:mod:`~mlimages.training.rundir`).

With ``distributed=True`` (under ``mpiexec``) every rank trains on its share of the lists and
the gradients are averaged every step; rank 0 alone writes.

Sizes are inputs before anything runs (:func:`mlimages.models.sizes.check_crop`); a NaN or
infinite loss stops the run without a snapshot of the broken weights; a stop request (the CLI
sets one on Ctrl-C) or a KeyboardInterrupt ends the run with a snapshot; ``resume`` continues
from any snapshot (a directory: its latest) exactly where it stopped.  An ``out`` that holds
another run is refused first unless ``overwrite``; ``--best``, ``--patience``: :mod:`.best`.
"""

import logging
from pathlib import Path
from typing import NamedTuple

import numpy

from mlimages._chainer import chainer, extensions, training
from mlimages.errors import MlimagesError
from mlimages.loader import converter
from mlimages.models import build_classifier
from mlimages.pretrained.store import init_weights
from mlimages.training.best import BestModel, StopRequests, best_options, epoch_end
from mlimages.training.finetune import (freeze, frozen_layers, load_init_model,
                                        scale_pretrained_lr)
from mlimages.training.inputs import check_inputs, make_iterators
from mlimages.training.metrics import ImageEvaluator
from mlimages.training.monitor import (AnyOf, GlobalRandomState, NonFiniteLoss, StopOnNonFinite,
                                       StopWhen, add_monitoring)
from mlimages.training.rundir import (claim_out, clear_run, latest_snapshot_or_none,
                                      load_snapshot, materialise, remove_partial_snapshots,
                                      snapshot_extensions, snapshot_path, write_run_files)
from mlimages.training.report import last_epoch
from mlimages.training.screen import epoch_table
from mlimages.training.runmodels import save_last_model

log = logging.getLogger(__name__)


class TrainingDiverged(MlimagesError, RuntimeError):
    """The loss became NaN or infinite; the run stopped before snapshotting bad weights."""


class TrainResult(NamedTuple):
    """What a run did.

    Attributes: out (Path), iteration, epoch (float, epoch_detail), finished (reached
    ``epoch``), interrupted (stopped on request or KeyboardInterrupt), last (dict: the last
    epoch, :func:`~mlimages.training.report.last_epoch`), snapshot (Path of the latest trainer
    snapshot, or None), loaded (LoadReport or None), frozen (list of layer names), skipped
    (the loaders' :class:`mlimages.loader.Failure` of each image they skipped, this process's),
    best (:class:`~mlimages.training.best.Best` of ``model_best.npz``, or None), stopped (why
    ``patience`` ended the run, or None).
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
    skipped: tuple = ()
    best: object = None
    stopped: "str | None" = None


# ------------------------------------------------------------------ model
def build_model(opts, n_classes, crop, device):
    """The classifier, materialised at ``crop``, with fine-tuning applied, on ``device``.

    Returns:
        (L.Classifier, LoadReport or None, list of frozen layer names).
    """
    # A pretrained model's name becomes its cached .npz (downloaded first if need be).
    weights = opts.finetune.init_model and init_weights(opts.finetune.init_model, opts.arch)
    model = build_classifier(opts.arch, n_classes)
    materialise(model.predictor, crop)
    report = load_init_model(model.predictor, weights) if weights else None
    frozen = frozen_layers(model.predictor, opts.finetune)
    model.to_device(device)
    return model, report, frozen


def make_optimizer(opts, model, report, frozen):
    """MomentumSGD with weight decay, frozen layers and the pretrained layers' lr scale."""
    optimizer = chainer.optimizers.MomentumSGD(lr=opts.lr, momentum=opts.momentum)
    optimizer.setup(model)
    freeze(model.predictor, frozen)  # after setup: it switches off the update rules setup made
    if opts.weight_decay:
        optimizer.add_hook(chainer.optimizer_hooks.WeightDecay(opts.weight_decay))
    if report is not None:
        pretrained = [n for n in report.loaded if n not in frozen]
        scale_pretrained_lr(model.predictor, pretrained, opts.finetune.pretrained_lr_scale)
    return optimizer


def _model_and_optimizer(opts, inputs, ranks):
    """Returns (model, optimizer, LoadReport or None, frozen layer names)."""
    if opts.seed is not None:
        # Chainer draws initial weights and dropout masks from NumPy's global generator.
        numpy.random.seed(opts.seed)
    model, report, frozen = build_model(opts, len(inputs.names), inputs.crop, inputs.device)
    _log_finetune(opts, report, frozen)
    optimizer = make_optimizer(opts, model, report, frozen)
    if ranks is not None:
        from mlimages.training.distributed import multi_node_optimizer
        optimizer = multi_node_optimizer(optimizer, ranks)
        if ranks.rank == 0:
            log.info("distributed over %d ranks: batch %d per rank, effective batch %d, lr %g "
                     "(the linear-scaling rule suggests lr %g)", ranks.size, opts.batchsize,
                     opts.batchsize * ranks.size, opts.lr, opts.lr * ranks.size)
    return model, optimizer, report, frozen


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


# ------------------------------------------------------------------ the run
def train(opts, resume=None, stop=None, progress=True, distributed=False, overwrite=False):
    """Train (or resume) a network as ``opts`` says; the outputs: :mod:`mlimages.training.rundir`.

    Args:
        opts (TrainOptions): the run.
        resume: a trainer snapshot, or an output folder (its latest snapshot).
        stop: an object with ``is_set()`` (a ``threading.Event``); when set, the run ends
            after the current iteration with a snapshot.  The CLI sets it on Ctrl-C.
        progress: False, True (the start line, a row per epoch, a bar on a terminal) or
            ``"intervals"`` (also interval rows): :mod:`mlimages.training.screen`.
        distributed (bool): one rank of an ``mpiexec`` job (:mod:`mlimages.training.distributed`):
            ``opts.batchsize`` is per rank; a failure on any rank ends every rank.
        overwrite (bool): when ``opts.out`` holds another run, remove its files
            (:func:`~mlimages.training.rundir.clear_run`) once the inputs are checked.

    Returns:
        TrainResult.

    Raises:
        TrainError: ``opts.out`` holds a run that this one neither resumes nor overwrites
            (checked first), ``patience`` without a validation list, or bad inputs.
        mlimages.training.distributed.DistributedError: ``distributed`` without mpi4py.
    """
    if not distributed:
        return _train(opts, resume, stop, progress, None, overwrite)
    from mlimages.training.distributed import AnyRankStop, abort_on_error, communicator, cpu_share
    ranks = communicator(opts.gpu)
    with abort_on_error(ranks), cpu_share(ranks, opts.gpu):
        return _train(opts, resume, AnyRankStop(stop, ranks), ranks.rank == 0 and progress,
                      ranks, overwrite)


def _train(opts, resume, stop, progress, ranks, overwrite=False):
    """One process's run; with ``ranks``, one rank of a distributed run (rank 0 writes)."""
    lead = ranks is None or ranks.rank == 0  # the one process that writes
    size = 1 if ranks is None else ranks.size
    old = claim_out(opts.out, resume, overwrite) if lead else []
    opts = best_options(opts, say=lead)
    inputs = check_inputs(opts, resume, ranks)
    opts = inputs.opts  # the image size and resize mode as found (the mean's .json)
    model, optimizer, report, frozen = _model_and_optimizer(opts, inputs, ranks)
    train_iter, val_iter = make_iterators(opts, inputs.crop, inputs.mean, ranks)
    updater = training.updaters.StandardUpdater(
        train_iter, optimizer, converter=converter, device=inputs.device)
    best = (BestModel(model.predictor, opts.best, opts.patience, write=lead) if opts.best
            else None)
    trainer = training.Trainer(updater, StopWhen(opts.epoch, StopRequests(stop, best)),
                               out=opts.out)
    table = epoch_table(opts, len(inputs.names), model, inputs.device, lead and progress)
    snapshots = _extend(trainer, opts, model, val_iter, inputs.device, table, ranks, lead)
    if best:
        trainer.extend(best, name="best", trigger=epoch_end)
    if inputs.snapshot is not None:
        this_run = f"--arch {opts.arch}, {len(inputs.names)} classes, crop {inputs.crop}"
        load_snapshot(trainer, inputs.snapshot, f"this run ({this_run})")
    if lead:  # only now: a resume that fails leaves the run it was resuming as it was
        clear_run(opts.out, old)
        remove_partial_snapshots(opts.out)
        write_run_files(opts, inputs.names, inputs.mean, inputs.crop, size)
    interrupted = _run(trainer)
    finished, entries = _finish(trainer, opts, model, snapshots, interrupted, lead)
    stopped = best.reason() if best and best.is_set() and not finished else None
    return TrainResult(Path(opts.out), updater.iteration, updater.epoch_detail, finished,
                       interrupted or not (finished or stopped), last_epoch(entries),
                       latest_snapshot_or_none(opts.out), report, frozen,
                       0 if ranks is None else ranks.rank, size, opts.batchsize, opts.lr,
                       tuple(train_iter.failures + (val_iter.failures if val_iter else [])),
                       best.best if best else None, stopped)


def _extend(trainer, opts, model, val_iter, device, table, ranks=None, lead=True):
    """Register every extension (``table``: an EpochTable or None); returns the snapshot ones
    (none unless ``lead``: of a distributed run's ranks, rank 0 alone logs and snapshots)."""
    every = (opts.log_interval, "iteration"), (1, "epoch")
    if val_iter is not None:
        evaluator = ImageEvaluator(val_iter, model, converter=converter, device=device,
                                   comm=None if ranks is None else ranks.comm)
        trainer.extend(evaluator, name="validation", trigger=(1, "epoch"))
    trainer.extend(extensions.ExponentialShift("lr", opts.lr_decay),
                   trigger=(opts.lr_decay_every, "epoch"))
    trainer.extend(StopOnNonFinite())
    trainer.extend(GlobalRandomState())
    if not lead:
        return []
    add_monitoring(trainer, AnyOf(*every), table, best=opts.best or "val_loss")
    snapshots = snapshot_extensions(model.predictor, opts.keep)
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
            f"{latest_snapshot_or_none(trainer.out)}") from None
    return False


def _finish(trainer, opts, model, snapshots, interrupted, lead):
    """A snapshot where an early stop left off, and ``model.npz``.

    Returns:
        (finished: the epoch count was reached, the log's entries; empty unless ``lead``).
    """
    finished = trainer.updater.epoch_detail >= opts.epoch
    if (interrupted or not finished) and not snapshot_path(opts.out, trainer).exists():
        for ext in snapshots:
            ext(trainer)
    if not lead:
        return finished, []
    save_last_model(opts.out, trainer.updater, model.predictor)
    return finished, trainer.get_extension("LogReport").log
