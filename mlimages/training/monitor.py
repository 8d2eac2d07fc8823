"""Trainer extensions and triggers that ``mlimages.training.run`` wires in.

* :class:`CsvLog` and :func:`add_monitoring`: the log as CSV, and the wiring of the log, the
  curves (:mod:`~mlimages.training.plots`) and the printed table
  (:mod:`~mlimages.training.screen`);
* :class:`StopOnNonFinite`: a NaN or infinite loss ends the run before anything is saved;
* :class:`GlobalRandomState`: NumPy's global random state travels in snapshots;
* :class:`AnyOf`, :class:`StopWhen`: "every N iterations and every epoch", "the epoch count or
  a stop request".
"""

import math
from pathlib import Path

import numpy

from mlimages._chainer import chainer, extensions, training
from mlimages._fs import atomic_write_text
from mlimages.errors import MlimagesError
from mlimages.training.plots import Curves


class AnyOf:
    """Trigger firing when any of its interval triggers fires (all are called every time,
    since interval triggers keep state between calls)."""

    def __init__(self, *specs):
        self.triggers = [training.triggers.IntervalTrigger(*spec) for spec in specs]

    def __call__(self, trainer):
        return any([t(trainer) for t in self.triggers])

    def serialize(self, serializer):
        for i, t in enumerate(self.triggers):
            t.serialize(serializer[str(i)])


class CsvLog(training.Extension):
    """Rewrites ``log.csv`` from the LogReport's entries whenever one is added (the JSON
    ``log`` is the source; resuming restores it, so the CSV stays whole)."""

    trigger = (1, "iteration")
    priority = training.PRIORITY_READER - 1
    COLUMNS = ("epoch", "iteration", "main/loss", "main/accuracy", "validation/main/loss",
               "validation/main/accuracy", "lr", "elapsed_time")

    def __init__(self):
        self.written = -1

    def __call__(self, trainer):
        log = trainer.get_extension("LogReport").log
        if len(log) == self.written:
            return
        rows = [",".join(self.COLUMNS)]
        rows += [",".join(_csv_value(entry.get(c)) for c in self.COLUMNS) for entry in log]
        atomic_write_text(Path(trainer.out) / "log.csv", "\n".join(rows) + "\n")
        self.written = len(log)


def _csv_value(value):
    return "" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


def add_monitoring(trainer, log_trigger, table=None, best="val_loss"):
    """The log (JSON and CSV), the curves (:mod:`~mlimages.training.plots`; the best epoch by
    ``best`` marked) and, when given, the printed table and progress bar (a
    :class:`~mlimages.training.screen.EpochTable`)."""
    trainer.extend(extensions.observe_lr(), trigger=(1, "iteration"))
    trainer.extend(extensions.LogReport(trigger=log_trigger))
    trainer.extend(CsvLog())
    trainer.extend(Curves(metric=best), name="curves")
    if table is not None:
        trainer.extend(table, name="table")


class StopWhen:
    """The stop trigger: the epoch count, or a stop request (``threading.Event``-like)."""

    def __init__(self, epochs, request):
        self.epochs, self.request = epochs, request

    def __call__(self, trainer):
        done = trainer.updater.epoch_detail >= self.epochs
        return done or (self.request is not None and self.request.is_set())

    def get_training_length(self):
        return self.epochs, "epoch"


class GlobalRandomState(training.Extension):
    """Saves NumPy's global random state in snapshots: Chainer draws initial weights and
    dropout masks from it, so a resumed run continues the very same stream."""

    trigger = (1, "epoch")

    def __call__(self, trainer):
        pass

    def serialize(self, serializer):
        kind, keys, pos, has_gauss, gauss = numpy.random.get_state()
        keys = serializer("keys", keys)
        pos = serializer("pos", pos)
        has_gauss = serializer("has_gauss", has_gauss)
        gauss = serializer("gauss", gauss)
        if isinstance(serializer, chainer.serializer.Deserializer):
            numpy.random.set_state((kind, numpy.asarray(keys, numpy.uint32), int(pos),
                                    int(has_gauss), float(gauss)))


class NonFiniteLoss(MlimagesError, ArithmeticError):
    """The training loss was NaN or infinite (raised inside the training loop).

    Attributes: value (float), iteration (int), epoch (float, epoch_detail).
    """

    def __init__(self, value, iteration, epoch):
        self.value, self.iteration, self.epoch = value, iteration, epoch
        super().__init__(f"loss {value} at iteration {iteration} (epoch {epoch:.2f})")


class StopOnNonFinite(training.Extension):
    """Raises NonFiniteLoss when the training loss is NaN or infinite.  It runs before every
    other extension of the iteration, so no snapshot of the broken weights is made."""

    trigger = (1, "iteration")
    priority = training.PRIORITY_WRITER + 1

    def __call__(self, trainer):
        loss = trainer.observation.get("main/loss")
        if loss is None:
            return
        value = float(loss.array if hasattr(loss, "array") else loss)
        if not math.isfinite(value):
            updater = trainer.updater
            raise NonFiniteLoss(value, updater.iteration, updater.epoch_detail)
