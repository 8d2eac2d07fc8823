"""The training curves as PNG, redrawn from the log at every epoch's end.

* ``curves.png``: loss and accuracy side by side, for a report;
* ``loss.png``, ``accuracy.png``: each panel on its own.

The x axis is in epochs, one point per epoch (:func:`mlimages.training.report.epoch_rows`:
training figures are the epoch's means, validation figures its evaluation), legends "train"
and "validation", and the best epoch (by ``--best``: lowest validation loss by default) marked with a dashed line.
Matplotlib draws on its own Agg canvas, never through pyplot: nothing process-wide (the
backend, open figures) is touched, and no display is needed.
"""

import io
import time
from pathlib import Path

from mlimages._chainer import training
from mlimages._fs import atomic_write_bytes
from mlimages.training.report import best_epoch, epoch_rows

#: (file name stem, panel title, training field, validation field) of each panel.
PANELS = (("loss", "Loss", "loss", "val_loss"), ("accuracy", "Accuracy", "acc", "val_acc"))
CURVES = "curves.png"


class Curves(training.Extension):
    """Writes ``curves.png``, ``loss.png`` and ``accuracy.png`` into the run folder at an
    epoch's end (after the LogReport has added the epoch's entry) when the last drawing is
    ``every`` seconds old or more, and when the run ends: drawing takes about half a second,
    which short epochs should not pay each time."""

    trigger = (1, "epoch")
    priority = training.PRIORITY_READER - 1

    def __init__(self, every=10.0, metric="val_loss"):
        self.every, self.metric, self._drawn, self._pending = every, metric, None, None

    def __call__(self, trainer):
        self._pending = trainer.get_extension("LogReport").log, trainer.out, self.metric
        if self._drawn is None or time.monotonic() - self._drawn >= self.every:
            self._draw()

    def finalize(self):
        if self._pending is not None:
            self._draw()

    def _draw(self):
        write_curves(*self._pending)
        self._drawn, self._pending = time.monotonic(), None


def write_curves(log, out, metric="val_loss"):
    """Draw the epochs of ``log`` (a LogReport log) into ``out``, the best epoch by ``metric``
    (``--best``: ``val_loss`` or ``val_acc``) marked; nothing without an epoch.

    Returns:
        list of the Paths written.
    """
    rows = epoch_rows(log)
    if not rows:
        return []
    best = best_epoch(rows, metric)
    written = [atomic_write_bytes(Path(out) / CURVES, png(figure(rows, PANELS, best, metric)))]
    for panel in PANELS:
        written.append(atomic_write_bytes(Path(out) / f"{panel[0]}.png",
                                          png(figure(rows, [panel], best, metric))))
    return written


def figure(rows, panels, best=None, metric="val_loss"):
    """A matplotlib Figure with one axes per panel of ``panels`` (see :data:`PANELS`), side
    by side; ``best`` (an EpochRow or None, best by ``metric``) is marked on each."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    width = 5.6 * len(panels)
    fig = Figure(figsize=(width, 4.2), dpi=100)
    # Fixed margins (inches over the width): tight_layout would double the drawing time.
    fig.subplots_adjust(left=0.8 / width, right=1 - 0.25 / width, bottom=0.12, top=0.92,
                        wspace=0.9 / 5.6)
    for i, (_, title, train, val) in enumerate(panels):
        axes = fig.add_subplot(1, len(panels), i + 1)
        for field, label in ((train, "train"), (val, "validation")):
            points = [(r.epoch, getattr(r, field)) for r in rows
                      if getattr(r, field) is not None]
            if points:
                axes.plot(*zip(*points), marker="o" if len(points) < 40 else None,
                          markersize=4, label=label)
        if best is not None:
            axes.axvline(best.epoch, color="grey", linestyle="--", linewidth=1,
                         label=f"best: epoch {best.epoch} ({metric} {getattr(best, metric):.3g})")
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.set_ylabel(title.lower())
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(True, alpha=0.3)
        axes.legend(loc="best")
    return fig


def png(fig):
    """The Figure ``fig`` as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
