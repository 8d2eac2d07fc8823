"""The network ``--model best|last|PATH`` names, loaded for ``evaluate`` and ``predict``.

Which file a choice means is the run folder's to say (:func:`mlimages.training.runmodels.
choose_model`): None, the best model when the run kept one (``model_best.npz``), else the
last (the file ``current.json`` names); ``"best"``; ``"last"``; or a model file's path.
Weights are read without pickle (:func:`mlimages.training.rundir.load_network`).
"""

import logging

from mlimages.training.rundir import load_network, load_run

log = logging.getLogger(__name__)


def load_model(run_dir, choice=None):
    """The run folder ``run_dir`` and its network with the weights ``choice`` names.

    Returns:
        (RunFolder, chainer.Chain): ``RunFolder.model`` is the weights file used; the network
        is on the CPU. The choice is logged (INFO).

    Raises:
        mlimages.training.options.TrainError (RunDirError), mlimages.mean.MeanError: no such
            model, a folder that is not a complete run, or a damaged or unfit file.
    """
    run = load_run(run_dir, choice)
    network = load_network(run)
    log.info("model: %s", run.note)
    return run, network
