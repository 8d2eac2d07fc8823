"""The export's self-check: the ONNX graph in onnxruntime against the run's network in Chainer.

Both see the same images: the first readable ones of the run's validation list (then
generated ones, when it has fewer), brought to the run's size as training does. Chainer gets
the loader's own centre view (mean subtracted, scaled); onnxruntime gets the raw centre crop,
as a deployer would. A batch of 8 against the traced batch of 2 also checks the free batch
dimension.
"""

from pathlib import Path
from typing import NamedTuple

import numpy

from mlimages import listfile
from mlimages._chainer import chainer, F
from mlimages.evaluate.tta import make_views, read_chw, view_params
from mlimages.export.options import INPUT, TOLERANCE, ExportCheckFailed
from mlimages.image import ImageError


class Check(NamedTuple):
    """What the self-check found.

    Attributes:
        images (int): how many.  source (str): where they came from.  max_diff (float): the
        largest |probability difference|.  top1_equal (bool): same class everywhere.
    """

    images: int
    source: str
    max_diff: float
    top1_equal: bool


def sample_images(run, opts, count):
    """``count`` images as training reads them: uint8 (count, 3, S, S), and where from.

    Args:
        run: the RunFolder.  opts: its TrainOptions (``val`` and ``root``, absolute).
    """
    found = []
    if opts.val and Path(opts.val).is_file():
        for entry in listfile.read_list(opts.val):
            if len(found) == count:
                break
            try:
                found.append(read_chw(Path(opts.root) / entry.path, run.mean.shape[1],
                                      run.resize))
            except ImageError:
                continue
    made = count - len(found)
    rng = numpy.random.default_rng(0)
    size = run.mean.shape[1]
    found += [rng.integers(0, 256, (3, size, size), numpy.uint8) for _ in range(made)]
    parts = ([f"{count - made} from {Path(opts.val).name}"] if count > made else []) + \
        ([f"{made} generated"] if made else [])
    return numpy.stack(found), ", ".join(parts)


def centre(run):
    """(top, left) of the centre crop of a run's image (the loader's validation view)."""
    views = view_params(run.mean.shape[1], run.crop, "none")
    return int(views.tops[0]), int(views.lefts[0])


def mean_crop(run):
    """The training mean under the centre crop: float32 (3, crop, crop) (or (3, 1, 1))."""
    if run.mean.shape[1] == 1:
        return run.mean
    top, left = centre(run)
    return run.mean[:, top:top + run.crop, left:left + run.crop]


def raw_crops(run, chws):
    """What the graph takes: the centre crops, float32 (N, 3, crop, crop), RGB 0..255."""
    top, left = centre(run)
    return chws[:, :, top:top + run.crop, left:left + run.crop].astype(numpy.float32)


def chainer_probs(network, run, chws):
    """The run's probabilities by Chainer, each image prepared by the loader: (N, K)."""
    views = view_params(run.mean.shape[1], run.crop, "none")
    x = numpy.concatenate([make_views(chw, run.mean, run.crop, views) for chw in chws])
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        return F.softmax(network(x)).array


def onnx_probs(session, crops):
    """The graph's probabilities by onnxruntime: (N, K)."""
    return session.run(None, {INPUT: crops})[0]


def compare(reference, got, source):
    """Check; raise ExportCheckFailed beyond TOLERANCE or on another top-1 class."""
    diff = float(numpy.abs(reference - got).max())
    same = bool((reference.argmax(1) == got.argmax(1)).all())
    check = Check(len(reference), source, diff, same)
    if diff > TOLERANCE or not same:
        raise ExportCheckFailed(
            f"the exported graph disagrees with the run's network on {source}: max "
            f"|Δprob| {diff:.3g} (allowed {TOLERANCE:g}), top-1 "
            f"{'equal' if same else 'different'}; nothing was written. Report this with "
            "the run's args.json and `mlimages info`")
    return check
