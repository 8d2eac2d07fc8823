"""The best model of a run (``--best``), and stopping when it stops improving (``--patience``).

:class:`BestModel` is a Trainer extension that runs at the end of every epoch, after the
validation (:class:`~mlimages.training.metrics.ImageEvaluator`) and before the snapshots:

* when the chosen figure (``val_loss``: lower is better; ``val_acc``: higher) improves on the
  best so far, strictly, the network is written to ``model_best.npz`` and the figure, epoch
  and iteration to ``best.json`` (:mod:`mlimages.training.runmodels`);
* otherwise it counts one more epoch without improvement; with ``patience`` N, N such epochs
  in a row end the run (:meth:`BestModel.is_set`, read by the stop trigger).

Its state (the best so far, the count) travels in the trainer snapshots, so a resumed run
compares with the real best and never replaces a better ``model_best.npz`` with a worse one.
"""

import dataclasses
import logging
import math
from pathlib import Path
from typing import NamedTuple

from mlimages._chainer import chainer, training
from mlimages.training.options import BEST_METRICS, TrainError
from mlimages.training.runmodels import BEST, save_model, write_best

log = logging.getLogger(__name__)


class Best(NamedTuple):
    """The best validation figure so far: metric (``"val_loss"``...), value (float), epoch
    (int, epochs completed) and iteration (int) of the model in ``model_best.npz``."""

    metric: str
    value: float
    epoch: int
    iteration: int

    def describe(self):
        """E.g. ``val_loss 0.4312 at epoch 5 (iteration 15)``."""
        return f"{self.metric} {self.value:.4g} at epoch {self.epoch} (iteration {self.iteration})"


def best_options(opts, say=True):
    """``opts`` (TrainOptions) without ``best`` when there is no validation list (said once,
    with ``say``: by one rank of a distributed run).

    Raises:
        TrainError: ``patience`` without a validation list.
    """
    if opts.val is not None:
        return opts
    if opts.patience is not None:
        raise TrainError(f"--patience {opts.patience} needs a validation list to watch: give "
                         "--val, or drop --patience")
    if opts.best is not None and say:
        log.info("no validation list (--val): no best model (%s) is kept; predict will use "
                 "the last model", BEST)
    return dataclasses.replace(opts, best=None)


def epoch_end(trainer):
    """Trigger: the last iteration of every epoch (stateless: nothing of it in snapshots)."""
    return trainer.updater.is_new_epoch


def _to_float(value):
    return float(value.array if hasattr(value, "array") else value)


class BestModel(training.Extension):
    """Keeps ``model_best.npz`` and counts epochs without improvement; register it with
    ``trigger=epoch_end`` under the name ``"best"``.

    Args:
        predictor: the network (``model.predictor``) written as ``model_best.npz``.
        metric (str): a key of :data:`~mlimages.training.options.BEST_METRICS`.
        patience (int or None): epochs without improvement that end the run; None: never.
        write (bool): write the files (False on all ranks of a distributed run but rank 0).

    Attributes:
        best (Best or None): the best so far.  stale (int): epochs since it.
    """

    priority = training.PRIORITY_READER  # after the evaluator (a writer), before snapshots

    def __init__(self, predictor, metric, patience=None, write=True):
        self.predictor, self.metric, self.patience, self.write = predictor, metric, patience, write
        self.key, self.better = BEST_METRICS[metric]
        self.best, self.stale = None, 0

    def __call__(self, trainer):
        value = trainer.observation.get(self.key)
        if value is None:
            return
        value, updater = _to_float(value), trainer.updater
        if self._improves(value):
            self.best, self.stale = Best(self.metric, value, updater.epoch, updater.iteration), 0
            if self.write:
                save_model(Path(trainer.out) / BEST, self.predictor)
                write_best(trainer.out, self.best)  # after the model: it names a whole file
        else:
            self.stale += 1

    def _improves(self, value):
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value < self.best.value if self.better == "lower" else value > self.best.value

    def is_set(self):
        """True once ``patience`` epochs in a row brought no improvement."""
        return self.patience is not None and self.stale >= self.patience

    def reason(self):
        """Why :meth:`is_set` ended the run, for the summary."""
        return f"{self.metric} did not improve for {self.stale} epochs (--patience {self.patience})"

    def serialize(self, serializer):
        if isinstance(serializer, chainer.serializer.Serializer):
            best = self.best or Best(self.metric, math.nan, 0, 0)
            for name, value in zip(Best._fields, best):
                serializer(name, value)
            serializer("stale", self.stale)
            return
        try:
            metric = str(serializer("metric", ""))
        except KeyError:  # a snapshot from before best models were kept
            log.info("the snapshot has no best model yet: the best is tracked from now on")
            return
        best = Best(metric, float(serializer("value", 0.0)), int(serializer("epoch", 0)),
                    int(serializer("iteration", 0)))
        if metric != self.metric:
            log.info("the run kept the best %s; now --best %s: the next evaluation starts it",
                     metric, self.metric)
            return
        self.best = best if best.epoch > 0 else None
        self.stale = int(serializer("stale", 0))


class StopRequests:
    """Any of several ``is_set()`` objects (a stop request, :class:`BestModel`), for
    :class:`~mlimages.training.monitor.StopWhen`; every one is asked every time (a
    distributed run's request is a collective call)."""

    def __init__(self, *requests):
        self.requests = [r for r in requests if r is not None]

    def is_set(self):
        return any([r.is_set() for r in self.requests])
