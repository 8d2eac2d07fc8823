"""``mlimages predict``: classify images with a finished (or interrupted) training run.

A training output folder holds everything needed (read by :mod:`mlimages.training.rundir`):
``args.json`` (architecture, crop, image size), ``label_def.txt``, ``mean.npy`` and the
model files.  The model used is the run's best (``model_best.npz``) when it kept one, else its
last (the file ``current.json`` names); ``model="last"``, ``"best"`` or a path picks another
(:func:`mlimages.training.runmodels.choose_model`).  Each image is prepared exactly as the
validation loader prepares it, with the loader's own functions: brought to the training image
size, center cropped, mean subtracted, scaled by 1/255.  An image that cannot be read gives a
Prediction with its error; the others are still classified.
"""

import logging
from typing import NamedTuple

import numpy

from mlimages._chainer import chainer, F
from mlimages.defaults import DEFAULT_RESIZE
from mlimages.errors import MlimagesError
from mlimages.image import REASONS, ImageError, ImageSpec, open_image
from mlimages.loader.transforms import crop_params, place
from mlimages.mean import MeanError
from mlimages.training.options import TrainError
from mlimages.training.rundir import load_network, load_run

log = logging.getLogger(__name__)


class PredictError(MlimagesError, ValueError):
    """A training output folder that cannot be used for prediction."""


class Guess(NamedTuple):
    """One class of a top-k list: index, name, probability."""

    label: int
    name: str
    prob: float


class Prediction(NamedTuple):
    """The result for one image: ``top`` (list of Guess, best first), or ``error`` (str)."""

    path: str
    top: list
    error: "str | None" = None


class Predictor(NamedTuple):
    """A loaded training result: network (on the CPU), class names, mean (3, S, S) float32,
    crop size, resize mode."""

    model: object
    names: list
    mean: numpy.ndarray
    crop: int
    resize: str


def load_result(result_dir, model=None):
    """Load a ``mlimages train`` output folder (through :func:`mlimages.training.rundir.load_run`).

    Args:
        model: None (the best model when the run kept one, else the last), "best", "last", or
            a model file of this run's network (a name in ``result_dir`` will do).

    Returns:
        Predictor: the network on the CPU, in its trained state.

    Raises:
        PredictError: a file is missing, damaged or unreadable, the model file does not fit
            the network or is not plain arrays (it is read without pickle), or the folder
            names an older model file as its last than the newest one in it.
    """
    try:
        run = load_run(result_dir, model)
        network = load_network(run)
    except (TrainError, MeanError) as e:
        raise PredictError(str(e)) from None
    log.info("model: %s", run.note)
    return Predictor(network, run.names, run.mean, run.crop, run.resize)


def preprocess(image, mean, crop, resize=DEFAULT_RESIZE):
    """One image as the evaluation loader makes it (the loader's own functions).

    Args:
        image: a path (or anything :func:`mlimages.image.open_image` reads).
        mean: float32 (3, S, S), the training mean; S is the image size used in training.
        crop (int): side of the center crop.
        resize: how images were brought to S x S in training.

    Returns:
        float32 (3, crop, crop): the center crop of (image - mean), times 1/255.
    """
    size = mean.shape[1]
    chw = numpy.asarray(open_image(image, ImageSpec(size=size, resize=resize))).transpose(2, 0, 1)
    tops, lefts, flips = crop_params(0, 0, 0, 1, size, crop, train=False)
    out = numpy.empty((3, crop, crop), numpy.float32)
    place(out, chw, mean, tops[0], lefts[0], flips[0], crop)
    return out


def predict(result_dir, images, top=5, batch_size=32, model=None):
    """Top-``top`` classes with probabilities for each of ``images``, by the ``model`` of
    :func:`load_result`.

    Returns:
        list of Prediction, in the order of ``images``.
    """
    predictor = load_result(result_dir, model)
    k = max(1, min(top, len(predictor.names)))
    results, batch = [None] * len(images), []
    for i, path in enumerate(images):
        try:
            x = preprocess(path, predictor.mean, predictor.crop, predictor.resize)
            batch.append((i, x))
        except ImageError as e:
            detail = f" ({e.detail})" if e.detail else ""
            results[i] = Prediction(str(path), [], f"{e.reason}{detail}: {REASONS[e.reason]}")
        if len(batch) == batch_size or (batch and i == len(images) - 1):
            _classify(predictor, batch, images, k, results)
            batch = []
    return results


def _classify(predictor, batch, images, k, results):
    x = numpy.stack([x for _, x in batch])
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        probs = F.softmax(predictor.model(x)).array
    for (i, _), p in zip(batch, probs):
        best = numpy.argsort(-p, kind="stable")[:k]
        results[i] = Prediction(str(images[i]), [
            Guess(int(j), predictor.names[j], float(p[j])) for j in best])


def format_predictions(predictions):
    """Human-readable lines: the image, then its top classes with probabilities."""
    lines = []
    for pred in predictions:
        if pred.error:
            lines.append(f"{pred.path}: cannot read: {pred.error}")
            continue
        lines.append(f"{pred.path}")
        lines += [f"  {g.prob:7.2%}  {g.name} ({g.label})" for g in pred.top]
    return "\n".join(lines)


def to_json(predictions):
    """The predictions as JSON-ready dicts."""
    return [{"path": p.path, "error": p.error,
             "top": [g._asdict() for g in p.top]} for p in predictions]
