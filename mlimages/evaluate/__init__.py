"""``mlimages evaluate``: a finished run on a labelled list: per-class figures, the confusion
matrix and the mistakes worth looking at.

* ``options``  EvalOptions, EvalError, the TTA modes (no Chainer import: the CLI reads it)
* ``run``      :func:`evaluate`: wires the others; the :class:`Evaluation` it returns
* ``model``    which weights ``--model best|last|PATH`` means; the network loaded from them
* ``tta``      the views of one image (centre crop, mirror, 10 crops), made by the loader's
  own preprocessing
* ``infer``    images -> class probabilities, averaged over the views; unreadable ones
  returned as values (``predict`` uses it too)
* ``metrics``  pure functions: confusion matrix, precision/recall/F1, top-k, confused pairs
* ``reports``  the files (report.json, CSVs, probs.npy) and the printed summary
* ``plots``    confusion.png and mistakes.png (matplotlib on its own Agg canvas)

Every figure is a count over images, never a mean of batch means. Only ``options`` is
imported here; ``mlimages.evaluate.run`` is what the CLI uses.
"""

from mlimages.evaluate.options import EvalError, EvalOptions, MODEL_CHOICES, TTA_MODES

__all__ = ["EvalError", "EvalOptions", "MODEL_CHOICES", "TTA_MODES"]
