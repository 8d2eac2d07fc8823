"""What a run prints while it trains: the start line, the epoch table, the progress bar.

::

    Found 54 images in 3 classes (train), 18 (val); model small, 172 k parameters; device CPU (2 threads, OpenBLAS SkylakeX)
    epoch      loss       acc  val_loss   val_acc        lr      time
        1    1.1034    0.3393    1.0914    0.3889      0.01      1.4s
      iter 10     loss 1.0712  acc 0.3750  (interval)
        2    1.0715    0.3750    1.0664    0.3333    0.0097      0.9s

The table goes to ``sys.stdout`` (as it is when a line is printed: the CLI wraps it), the
figures under :data:`mlimages.training.report.NAMES`. The bar (tqdm: iterations done of the
run's total, elapsed<remaining, rate) goes to ``sys.stderr``, and only when that is a
terminal: output to a pipe or a file (``| tee log``) holds neither escape codes nor carriage
returns.
"""

import os
import sys

from mlimages import listfile
from mlimages._chainer import training
from mlimages.training import report


def epoch_table(opts, n_classes, model, device, progress):
    """The :class:`EpochTable` for a run, or None when ``progress`` is false.

    Args:
        opts (TrainOptions): lists, arch, epochs.  n_classes (int).
        model: the classifier (its parameters are counted).  device: the Chainer device.
        progress: False (nothing), True (start line, epoch rows, bar) or ``"intervals"``
            (also a row every ``opts.log_interval`` iterations).
    """
    if not progress:
        return None
    n_train = sum(1 for _ in listfile.iter_list(opts.train))
    n_val = sum(1 for _ in listfile.iter_list(opts.val)) if opts.val else None
    start = report.start_line(n_train, n_val, n_classes, opts.arch,
                              report.parameter_count(model), device)
    return EpochTable(start, opts.epoch, validation=bool(opts.val),
                      intervals=progress == "intervals")


class EpochTable(training.Extension):
    """Prints the start line, a row per epoch (and per log entry with ``intervals``) as the
    LogReport adds entries, and keeps the progress bar; it runs right after the LogReport."""

    trigger = (1, "iteration")
    priority = training.PRIORITY_READER - 1

    def __init__(self, start, epochs, validation=True, intervals=False):
        self.start, self.epochs = start, epochs
        self.validation, self.intervals = validation, intervals
        self.shown, self.bar = 0, None

    def initialize(self, trainer):
        """At the run's start (after a resume): the start line, the header, the bar."""
        self.shown = len(trainer.get_extension("LogReport").log)  # a resumed run's: printed
        self._print(self.start)
        self._print(report.header(self.validation))
        if sys.stderr.isatty():
            self.bar = _bar(trainer, self.epochs)

    def __call__(self, trainer):
        log = trainer.get_extension("LogReport").log
        if self.bar is not None:
            self.bar.set_description_str(_epoch_text(trainer, self.epochs), refresh=False)
            self.bar.update(trainer.updater.iteration - self.bar.n)
        if len(log) == self.shown:
            return
        self.shown = len(log)
        rows = report.epoch_rows(log) if trainer.updater.is_new_epoch else None
        if rows:
            self._print(report.epoch_line(rows[-1], self.validation))
        elif self.intervals and rows is None:
            self._print(report.interval_line(log[-1]))

    def finalize(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _print(self, line):
        if self.bar is not None:
            self.bar.clear()
        print(line, file=sys.stdout, flush=True)
        if self.bar is not None:
            self.bar.refresh()


def _bar(trainer, epochs):
    """A tqdm bar on ``sys.stderr`` over the run's iterations (a resumed run's done ones
    counted), cleared when the run ends: the table is the record."""
    from tqdm import tqdm
    train = trainer.updater.get_iterator("main")
    total = -(-epochs * len(train.entries) // train.batch_size)  # epoch_detail >= epochs
    # A pseudo-terminal nobody sized (`script` in a pipe) says 0x0, where tqdm shows nothing.
    sized = _columns(sys.stderr) > 0
    return tqdm(total=total, initial=trainer.updater.iteration, file=sys.stderr, unit="it",
                desc=_epoch_text(trainer, epochs), leave=False, dynamic_ncols=sized,
                ncols=None if sized else 80, nrows=None if sized else 24)


def _columns(stream):
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


def _epoch_text(trainer, epochs):
    return f"epoch {min(trainer.updater.epoch + 1, epochs)}/{epochs}"
