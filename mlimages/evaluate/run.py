"""``mlimages evaluate``: a run's model on a labelled list, and every file of the report.

::

    RESULT (model, mean, crop, names) --+
    LIST + ROOT --> images --> views (tta) --> probabilities --> figures --> OUT/
                                      (unreadable images: listed, left out)

This module wires; the steps are :mod:`~mlimages.evaluate.model` (which weights),
:mod:`~mlimages.evaluate.infer` (probabilities), :mod:`~mlimages.evaluate.metrics` (figures)
and :mod:`~mlimages.evaluate.reports` (files and the printed summary).
"""

import os
from pathlib import Path
from typing import NamedTuple

import numpy

from mlimages import listfile
from mlimages.evaluate.infer import class_probabilities
from mlimages.evaluate.metrics import summarise
from mlimages.evaluate.model import load_model
from mlimages.evaluate.options import EvalError, EvalOptions
from mlimages.evaluate.reports import write_reports
from mlimages.training.device import check_gpu
from mlimages.training.rundir import load_options


class Evaluation(NamedTuple):
    """What :func:`evaluate` found.

    Attributes:
        out (Path): the report's folder.  model (Path): the weights used.
        list (Path), root (str), tta (str): what was evaluated, and how.
        names (list of str): the run's classes.  images (int): entries in the list.
        paths (list of str): the readable images (root joined), in list order.
        true: int64 (M,) their labels.  probs: float32 (M, K) their probabilities.
        unreadable: list of :class:`~mlimages.evaluate.infer.Unreadable`.
        figures (Figures): see :mod:`mlimages.evaluate.metrics`.
        resize (str), size (int): how the run brings images to size x size.
        written (list of Path): the files of the report.
    """

    out: Path
    model: Path
    list: Path
    root: str
    tta: str
    names: list
    images: int
    paths: list
    true: numpy.ndarray
    probs: numpy.ndarray
    unreadable: list
    figures: object
    resize: str
    size: int
    written: list = []


def evaluate(result_dir, list_file, opts=EvalOptions()):
    """Classify every image of ``list_file`` with the run in ``result_dir``; write the report.

    Returns:
        Evaluation.

    Raises:
        EvalError: a label the run does not have, an empty list, no readable image.
        mlimages.errors.MlimagesError: the run folder, the list or ``--gpu`` is unusable
            (one line naming the file).
    """
    device = check_gpu(opts.gpu)
    run, network = load_model(result_dir, opts.model)
    entries = _entries(list_file, len(run.names))
    root = opts.root if opts.root is not None else load_options(result_dir).root
    network.to_device(device)
    paths = [os.path.join(root, e.path) for e in entries]
    scored = class_probabilities(network, run, paths, opts.tta, opts.batchsize, device)
    if not len(scored.kept):
        first = scored.unreadable[0]
        raise EvalError(f"{list_file}: none of the {len(paths)} images can be read (e.g. "
                        f"{first.path}: {first.reason}); check --root ({root})")
    true = numpy.array([entries[i].label for i in scored.kept], numpy.int64)
    out = Path(opts.out) if opts.out else Path(result_dir) / f"eval-{Path(list_file).stem}"
    evaluation = Evaluation(out, run.model, Path(list_file), str(root), opts.tta, run.names,
                            len(entries), [paths[i] for i in scored.kept], true, scored.probs,
                            scored.unreadable, summarise(true, scored.probs, len(run.names)),
                            run.resize, run.mean.shape[1])
    return evaluation._replace(written=write_reports(evaluation))


def _entries(list_file, n_classes):
    """The list's entries; EvalError for an empty list or a label the run does not have."""
    entries = listfile.read_list(list_file)
    if not entries:
        raise EvalError(f"{list_file} lists no image")
    outside = next((e for e in entries if e.label >= n_classes), None)
    if outside:
        raise EvalError(f"{list_file}: label {outside.label} ({outside.path}) is not a class "
                        f"of the run, which has {n_classes} classes (0..{n_classes - 1}, "
                        "label_def.txt); evaluate with the lists made for this run")
    return entries
