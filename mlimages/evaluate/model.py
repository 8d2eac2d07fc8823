"""Which weights ``--model best|last|PATH`` means, and the network loaded from them.

The one place that maps the choice to a file (``evaluate`` and ``predict`` both call it):

* ``best``: ``model_best.npz`` (the weights of the best validation epoch) when the run wrote
  one, else ``model.npz``;
* ``last``: ``model.npz``, the weights when the run ended or stopped;
* anything else: the path of a weights file as given (e.g. ``RESULT/model_iter_4000.npz``).

Weights are read without pickle (:func:`mlimages.training.rundir.load_network`).
"""

from pathlib import Path

from mlimages.evaluate.options import EvalError, MODEL_CHOICES
from mlimages.training.rundir import MODEL, load_network, load_run

#: The weights of the best validation epoch, when the run kept them.
BEST = "model_best.npz"


def model_path(run_dir, choice):
    """The weights file that ``choice`` ("best", "last" or a path) names for ``run_dir``.

    Raises:
        EvalError: ``choice`` is a path with no file there.
    """
    run_dir = Path(run_dir)
    if choice == "best":
        return run_dir / BEST if (run_dir / BEST).is_file() else run_dir / MODEL
    if choice == "last":
        return run_dir / MODEL
    path = Path(choice)
    if not path.is_file():
        raise EvalError(f"--model {choice}: no such file; give {' or '.join(MODEL_CHOICES)}, or "
                        f"the path of a weights file such as {run_dir / 'model_iter_1000.npz'}")
    return path


def load_model(run_dir, choice="best"):
    """The run folder ``run_dir`` and its network with the weights ``choice`` names.

    Returns:
        (RunFolder, chainer.Chain): ``RunFolder.model`` is the weights file used; the network
        is on the CPU.

    Raises:
        EvalError: see :func:`model_path`.
        mlimages.training.options.TrainError, mlimages.mean.MeanError: the folder is not a
            complete run, or a file in it (or the weights) is damaged or does not fit.
    """
    run = load_run(run_dir)
    run = run._replace(model=model_path(run_dir, choice))
    return run, load_network(run)
