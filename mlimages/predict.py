"""``mlimages predict``: classify images with a finished (or interrupted) training run.

A training output folder holds everything needed (read by :mod:`mlimages.training.rundir`):
``args.json`` (architecture, crop, image size), ``label_def.txt``, ``mean.npy`` and the
weights (``model`` chooses them, as in ``mlimages evaluate``: :mod:`mlimages.evaluate.model`).
Each image is prepared exactly as the validation loader prepares it, with the loader's own
functions: brought to the training image size, centre cropped, mean subtracted, scaled by
1/255 (``tta`` averages more views: :mod:`mlimages.evaluate.tta`).

Inputs, in any mix and kept in the order given: image files; folders (every file with an
image extension below them, recursively, in sorted order); list files (``path label`` lines,
the paths relative to ``root``: a file with another extension whose content is text). An
image that cannot be read gives a Prediction with its error; the others are still classified.
"""

import csv
import io
import os
from pathlib import Path
from typing import NamedTuple

from mlimages import listfile
from mlimages._fs import atomic_write_text
from mlimages.defaults import DEFAULT_RESIZE
from mlimages.errors import MlimagesError
from mlimages.evaluate.infer import class_probabilities
from mlimages.evaluate.metrics import top_k
from mlimages.evaluate.model import load_model
from mlimages.evaluate.options import EvalOptions
from mlimages.evaluate.tta import make_views, read_chw, view_params
from mlimages.label.options import IMAGE_EXTENSIONS
from mlimages.training.rundir import load_options

_SNIFF = 4096  # bytes read to tell a list file (text) from an image


class PredictError(MlimagesError, ValueError):
    """A training output folder that cannot be used for prediction, or an input that cannot
    be expanded (an empty folder)."""


class Guess(NamedTuple):
    """One class of a top-k list: index, name, probability."""

    label: int
    name: str
    prob: float


class Item(NamedTuple):
    """An image to classify: its path, and the label and list file when a list named it."""

    path: str
    label: "int | None" = None
    source: "str | None" = None


class Prediction(NamedTuple):
    """The result for one image: ``top`` (list of Guess, best first), or ``error`` (str);
    ``label`` and ``source``: the list's label and the list file, for images from a list."""

    path: str
    top: list
    error: "str | None" = None
    label: "int | None" = None
    source: "str | None" = None


class Predictor(NamedTuple):
    """A loaded training result: network (on the CPU), class names, mean (3, S, S) float32,
    crop size, resize mode."""

    model: object
    names: list
    mean: object
    crop: int
    resize: str


def load_result(result_dir, model=EvalOptions.model):
    """Load a ``mlimages train`` output folder with the weights ``model`` names (None: the
    best model when the run kept one, else the last; "best", "last" or a path; see
    :mod:`mlimages.evaluate.model`).

    Returns:
        Predictor: the network on the CPU, in its trained state.

    Raises:
        PredictError: a file is missing, damaged or unreadable, or the weights do not fit the
            network or are not plain arrays (they are read without pickle).
    """
    try:
        run, network = load_model(result_dir, model)
    except MlimagesError as e:  # TrainError, MeanError, EvalError: one line naming the file
        raise PredictError(str(e)) from None
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
    return make_views(read_chw(image, size, resize), mean, crop,
                      view_params(size, crop, "none"))[0]


def expand_inputs(inputs, root="."):
    """The images that ``inputs`` (image files, folders, list files) name, in order.

    Returns:
        list of Item.

    Raises:
        PredictError: a folder with no image file under it.
        mlimages.listfile.ListFileError: a list file with a malformed line (file and line).
    """
    items = []
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            found = _images_under(path)
            if not found:
                raise PredictError(f"{path}: no image file under it (extensions: "
                                   f"{' '.join(IMAGE_EXTENSIONS)})")
            items += [Item(str(p)) for p in found]
        elif _is_list(path):
            items += [Item(os.path.join(root, e.path), e.label, str(path))
                      for e in listfile.read_list(path)]
        else:
            items.append(Item(str(given)))
    return items


def _images_under(folder):
    """The files with an image extension below ``folder``, sorted folder by folder."""
    found = []
    for top, _, files in os.walk(folder):
        found += [Path(top) / f for f in files if Path(f).suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(found, key=lambda p: p.parts)


def _is_list(path):
    """A file whose extension is not an image's and whose first bytes are UTF-8 text."""
    if path.suffix.lower() in IMAGE_EXTENSIONS or not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF)
    except OSError:
        return False
    if not head or b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return len(head) == _SNIFF and e.start >= _SNIFF - 3   # a character cut at the end
    return True


def predict(result_dir, images, top=5, batch_size=32, *, model=EvalOptions.model,
            tta=EvalOptions.tta, root=None):
    """Top-``top`` classes with probabilities for each image that ``images`` names.

    Args:
        images: image files, folders and list files (:func:`expand_inputs`).
        model: "best", "last" or a weights file.  tta: "none", "flip" or "10crop".
        root: folder the paths of list files are relative to; None: the run's ``--root``.

    Returns:
        list of Prediction, in the order of the expanded inputs.
    """
    predictor = load_result(result_dir, model)
    if root is None:
        root = load_options(result_dir).root
    items = expand_inputs(images, root)
    k = max(1, min(top, len(predictor.names)))
    scored = class_probabilities(predictor.model, predictor, [i.path for i in items], tta,
                                 batch_size)
    results = [None] * len(items)
    for u in scored.unreadable:
        item = items[u.index]
        results[u.index] = Prediction(item.path, [], u.reason, item.label, item.source)
    for row, (i, best) in enumerate(zip(scored.kept, top_k(scored.probs, k))):
        item = items[i]
        guesses = [Guess(int(j), predictor.names[j], float(scored.probs[row, j])) for j in best]
        results[i] = Prediction(item.path, guesses, None, item.label, item.source)
    return results


class ListScore(NamedTuple):
    """The accuracy on one list file: right and counted images, unreadable ones left out."""

    source: str
    correct: int
    counted: int
    unreadable: int


def list_scores(predictions):
    """A :class:`ListScore` for each list file among the sources of ``predictions``."""
    scores = {}
    for p in predictions:
        if p.source is not None:
            s = scores.setdefault(p.source, [0, 0, 0])
            if p.error:
                s[2] += 1
            else:
                s[0] += p.top[0].label == p.label
                s[1] += 1
    return [ListScore(source, *counts) for source, counts in scores.items()]


def format_scores(scores):
    """One line per list file: its accuracy, and the unreadable images not counted."""
    lines = []
    for s in scores:
        figure = (f"accuracy {s.correct / s.counted:.2%} ({s.correct}/{s.counted})"
                  if s.counted else "no readable image")
        rest = f", {s.unreadable} unreadable not counted" if s.unreadable else ""
        lines.append(f"{s.source}: {figure}{rest}")
    return "\n".join(lines)


def format_predictions(predictions):
    """Human-readable lines: the image, then its top classes with probabilities."""
    lines = []
    for pred in predictions:
        if pred.error:
            lines.append(f"{pred.path}: cannot read: {pred.error}")
            continue
        lines.append(f"{pred.path}" + ("" if pred.label is None else f"  (label {pred.label})"))
        lines += [f"  {g.prob:7.2%}  {g.name} ({g.label})" for g in pred.top]
    return "\n".join(lines)


def to_json(predictions):
    """The predictions as JSON-ready dicts."""
    return [{"path": p.path, "label": p.label, "error": p.error,
             "top": [g._asdict() for g in p.top]} for p in predictions]


def write_csv(path, predictions):
    """Write one row per prediction to ``path`` (atomically): path, label (from a list, else
    empty), predicted, predicted_name, confidence, top_k ("name:prob;..."), error."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(("path", "label", "predicted", "predicted_name", "confidence", "top_k",
                  "error"))
    for p in predictions:
        best = p.top[0] if p.top else None
        out.writerow((p.path, "" if p.label is None else p.label,
                      "" if best is None else best.label, "" if best is None else best.name,
                      "" if best is None else f"{best.prob:.6f}",
                      ";".join(f"{g.name}:{g.prob:.4f}" for g in p.top), p.error or ""))
    return atomic_write_text(path, buffer.getvalue())
