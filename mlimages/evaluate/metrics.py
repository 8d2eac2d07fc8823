"""The figures of an evaluation: pure functions of true labels, predictions and probabilities.

Everything is counted over images (never averaged over batches). A class with no images, or
never predicted, scores 0 where a ratio would divide by zero (scikit-learn's
``zero_division=0``), so no figure is NaN. Macro F1 averages the classes that occur (among the
true labels or the predictions), as scikit-learn does: a test list without some of the run's
classes is not marked down for them.
"""

from typing import NamedTuple

import numpy

#: The k of top-k accuracy (or the class count, when smaller).
TOP_K = 5


class PerClass(NamedTuple):
    """float64 (K,) precision, recall, F1 and int64 (K,) support (images of the class)."""

    precision: numpy.ndarray
    recall: numpy.ndarray
    f1: numpy.ndarray
    support: numpy.ndarray


class Figures(NamedTuple):
    """Every figure of one evaluation.

    Attributes:
        count, correct (int): images evaluated, and how many are right; accuracy = their ratio.
        k, top_k_correct (int): the k of top-k, and the images whose class is among its k best.
        macro_f1 (float): F1 averaged over the classes that occur (true or predicted).
        weighted_f1 (float): F1 averaged over the classes, weighted by support.
        predicted: int64 (N,) the most probable class of each image.
        confusion: int64 (K, K), rows the true class, columns the predicted one.
        per_class (PerClass).  most_confused: [(true, predicted, count)], most first.
    """

    count: int
    correct: int
    accuracy: float
    k: int
    top_k_correct: int
    top_k_accuracy: float
    macro_f1: float
    weighted_f1: float
    predicted: numpy.ndarray
    confusion: numpy.ndarray
    per_class: PerClass
    most_confused: list


def confusion_matrix(true, predicted, n_classes):
    """int64 (K, K): how many images of class i (row) were predicted as class j (column)."""
    m = numpy.zeros((n_classes, n_classes), numpy.int64)
    numpy.add.at(m, (numpy.asarray(true, numpy.int64), numpy.asarray(predicted, numpy.int64)), 1)
    return m


def _ratio(numerator, denominator):
    out = numpy.zeros(len(numerator), numpy.float64)
    numpy.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def per_class(confusion):
    """Precision, recall, F1 and support of each class of ``confusion`` (rows true)."""
    hits = numpy.diag(confusion).astype(numpy.float64)
    support = confusion.sum(axis=1)
    precision = _ratio(hits, confusion.sum(axis=0))
    recall = _ratio(hits, support)
    return PerClass(precision, recall, _ratio(2 * precision * recall, precision + recall),
                    support.astype(numpy.int64))


def top_k(probs, k):
    """int64 (N, k): each row's k most probable classes, best first (ties: lower index)."""
    return numpy.argsort(-probs, axis=1, kind="stable")[:, :k]


def top_k_correct(probs, true, k):
    """How many images have their true class among their ``k`` most probable."""
    return int((top_k(probs, k) == numpy.asarray(true)[:, None]).any(axis=1).sum())


def most_confused(confusion, n):
    """The ``n`` largest off-diagonal cells: [(true, predicted, count)], by count, then by
    class index; cells of 0 are left out."""
    off = confusion.copy()
    numpy.fill_diagonal(off, 0)
    cells = [(-int(off[i, j]), i, j) for i, j in zip(*numpy.nonzero(off))]
    return [(int(i), int(j), -c) for c, i, j in sorted(cells)[:n]]


def summarise(true, probs, n_classes, pairs=5):
    """The :class:`Figures` of images with labels ``true`` (int (N,)) and ``probs``
    (float (N, K)); the ``pairs`` most confused class pairs."""
    true = numpy.asarray(true, numpy.int64)
    predicted = top_k(probs, 1)[:, 0] if len(probs) else numpy.zeros(0, numpy.int64)
    confusion = confusion_matrix(true, predicted, n_classes)
    table = per_class(confusion)
    count, correct = len(true), int(numpy.trace(confusion))
    k = min(TOP_K, n_classes)
    hits = top_k_correct(probs, true, k) if count else 0
    weighted = float((table.f1 * table.support).sum() / count) if count else 0.0
    occur = (confusion.sum(axis=0) + confusion.sum(axis=1)) > 0
    macro = float(table.f1[occur].mean()) if occur.any() else 0.0
    return Figures(count, correct, correct / count if count else 0.0, k, hits,
                   hits / count if count else 0.0, macro, weighted,
                   predicted, confusion, table, most_confused(confusion, pairs))


def mistakes(true, predicted, confidence):
    """int64: the positions of the wrong predictions, the most confident first (ties: in
    input order)."""
    wrong = numpy.nonzero(numpy.asarray(true) != numpy.asarray(predicted))[0]
    return wrong[numpy.argsort(-numpy.asarray(confidence)[wrong], kind="stable")]
