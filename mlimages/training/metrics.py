"""Validation figures that count images, not batches.

Chainer's ``Evaluator`` averages the per-batch means that ``L.Classifier`` reports, so a short
last batch weighs as much as a full one: 36 images in batches of 32 give (23/32 + 4/4) / 2 =
0.859 where 27/36 = 0.750 are right. :class:`ImageEvaluator` weighs each batch's means by its
number of images, which makes every figure the mean over the images of the whole list; under
``--distributed`` the ranks' sums and counts are added before dividing (ChainerMN's
multi-node evaluator averages the ranks' means instead, which is wrong for unequal shares).
"""

from mlimages._chainer import chainer, extensions


def _to_float(value):
    """A reported value (a Variable, a NumPy or CuPy scalar) as a Python float."""
    if isinstance(value, chainer.Variable):
        value = value.array
    return float(chainer.backends.cuda.to_cpu(value))


class ImageEvaluator(extensions.Evaluator):
    """``extensions.Evaluator`` whose reported means are per image over the whole iterator.

    Args (beyond Evaluator's): ``comm`` a ChainerMN communicator, or None; with one, the
    figures are over the images of every rank.
    """

    def __init__(self, *args, comm=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._comm = comm

    def evaluate(self):
        """Run over the iterator once; returns {key: mean over images} (Python floats)."""
        iterator = self._iterators["main"]
        target = self.eval_func or self._targets["main"]
        if self.eval_hook:
            self.eval_hook(self)
        iterator.reset()
        totals = {}
        for batch in iterator:
            observation = {}
            with chainer.reporter.report_scope(observation):
                x, t = chainer.dataset.convert._call_converter(self.converter, batch,
                                                                self.device)
                with chainer.no_backprop_mode():
                    target(x, t)
            add_batch(totals, observation, len(t))
        if self._comm is not None:
            totals = merge(self._comm.mpi_comm.allgather(totals))
        return means(totals)


def add_batch(totals, observation, count):
    """Add one batch's reported means, times its ``count`` images, to ``totals``.

    ``totals`` maps each key to [sum over images, number of images].
    """
    for key, value in observation.items():
        entry = totals.setdefault(key, [0.0, 0])
        entry[0] += _to_float(value) * count
        entry[1] += count


def merge(parts):
    """One rank's totals from every rank's (a rank with no image has none)."""
    merged = {}
    for totals in parts:
        for key, (value, count) in totals.items():
            entry = merged.setdefault(key, [0.0, 0])
            entry[0] += value
            entry[1] += count
    return merged


def means(totals):
    """{key: sum / images} from :func:`add_batch`'s (or :func:`merge`'s) totals."""
    return {key: value / count for key, (value, count) in totals.items() if count}
