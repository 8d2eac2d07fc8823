"""confusion.png and mistakes.png, drawn on their own Agg canvas (no pyplot: nothing
process-wide is touched, and no display is needed), as :mod:`mlimages.training.monitor` does.

The confusion matrix is normalised by row (each true class sums to 1, so a small class reads
as clearly as a large one), with the class names on both axes and the image counts in the
cells while they fit; above ``MAX_LABELLED`` classes names and counts would overlap, so the
picture drops them and its title says so (the counts and names are in ``confusion.csv``).
"""

import io
import math

import numpy

from mlimages.image import ImageError, open_image

#: The most classes confusion.png labels; above, it shows the colours alone.
MAX_LABELLED = 50
#: Mistakes on the contact sheet.
SHEET = 25
_DPI = 100
_NAME_CHARS = 28


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    figure = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure):
    """The PNG of ``figure``."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _short(name):
    return name if len(name) <= _NAME_CHARS else name[:_NAME_CHARS - 1] + "…"


def normalised(confusion):
    """float64 (K, K): each row of ``confusion`` divided by its sum (a row of 0 stays 0)."""
    rows = confusion.sum(axis=1, keepdims=True)
    out = numpy.zeros(confusion.shape, numpy.float64)
    return numpy.divide(confusion, rows, out=out, where=rows > 0)


def confusion_figure(confusion, names):
    """The row-normalised confusion matrix (rows true, columns predicted) as a Figure.

    Args:
        confusion: int (K, K) counts.  names (list of str): the K class names.
    """
    k = len(names)
    labelled = k <= MAX_LABELLED
    side = min(max(4.5, 0.3 * k + 3), 18) if labelled else 12
    figure = _figure(side + 1.2, side)
    axes = figure.add_subplot(111)
    share = normalised(confusion)
    image = axes.imshow(share, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.03,
                    label="share of the true class's images")
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    if labelled:
        font = 10 if k <= 15 else 8
        axes.set_xticks(range(k), [_short(n) for n in names], rotation=90, fontsize=font)
        axes.set_yticks(range(k), [_short(n) for n in names], fontsize=font)
        _write_counts(axes, confusion, share, side * 72 * 0.7 / k)
        axes.set_title("confusion matrix: rows normalised, numbers are images")
    else:
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(f"confusion matrix of {k} classes, rows normalised: too many to label "
                       f"(over {MAX_LABELLED});\nclass order as in label_def.txt, counts and "
                       "names in confusion.csv", fontsize=10)
    figure.tight_layout()
    return figure


def _write_counts(axes, confusion, share, cell):
    """The count of each non-empty cell, when the widest fits a cell of ``cell`` points."""
    font = min(9.0, cell * 0.45)
    digits = len(str(int(confusion.max()))) if confusion.size else 1
    if font < 4 or digits * 0.6 * font > 0.9 * cell:
        return
    for i, j in zip(*numpy.nonzero(confusion)):
        axes.text(j, i, str(int(confusion[i, j])), ha="center", va="center", fontsize=font,
                  color="white" if share[i, j] > 0.5 else "black")


def mistakes_figure(mistakes, names, spec):
    """A contact sheet of the first ``SHEET`` of ``mistakes``: each image as the network's input
    is made (before the crop), titled "true → predicted" and the confidence.

    Args:
        mistakes: [(path, true, predicted, confidence)], worst first.
        names (list of str): class names.  spec (ImageSpec): how images are read.
    """
    shown = list(mistakes)[:SHEET]
    if not shown:
        figure = _figure(5, 1.5)
        figure.text(0.5, 0.5, "no mistakes: every image was classified right", ha="center",
                    va="center")
        return figure
    cols = min(5, len(shown))
    rows = math.ceil(len(shown) / cols)
    figure = _figure(2.4 * cols, 2.6 * rows + 0.5)
    for n, (path, true, predicted, confidence) in enumerate(shown):
        axes = figure.add_subplot(rows, cols, n + 1)
        axes.axis("off")
        try:
            axes.imshow(numpy.asarray(open_image(path, spec)))
        except ImageError as e:
            axes.text(0.5, 0.5, f"cannot read:\n{e.reason}", ha="center", va="center",
                      transform=axes.transAxes)
        axes.set_title(f"{_short(names[true])} → {_short(names[predicted])}\n{confidence:.1%}",
                       fontsize=8)
    figure.suptitle("most confident mistakes: true → predicted, confidence")
    figure.tight_layout()
    return figure
