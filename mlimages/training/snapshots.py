"""The trainer snapshots of a run folder: written every N iterations and every epoch, found back.

======================  ==================================================================
``snapshot_iter_N``     the trainer (model, optimizer, loader position, logs), last K kept
``model_iter_N.npz``    the network alone at the same moments, last K kept
                        (:func:`mlimages.training.runmodels.network_snapshot`)
``tmp..._iter_N``       the folder of a snapshot write cut short (removed by the next run)
======================  ==================================================================

:func:`snapshot_extensions` writes them; :func:`latest_snapshot` (what ``--resume OUT``
continues), :func:`earlier_snapshot` (the one before a damaged one) find them;
:func:`load_snapshot` reads one back into a trainer, without pickle.
"""

import logging
import re
import shutil
from pathlib import Path

from mlimages._chainer import extensions
from mlimages.training.npz import NpzError, NpzMismatch, load_into
from mlimages.training.options import TrainError
from mlimages.training.runmodels import network_snapshot, save_npz_uncompressed

log = logging.getLogger(__name__)

SNAPSHOT = "snapshot_iter_{.updater.iteration}"
SNAPSHOT_RE = re.compile(r"^snapshot_iter_(\d+)$")
PARTIAL_RE = re.compile(r"^tmp.*_iter_\d+")  # Chainer's writer: a folder "tmp" + name + suffix


def snapshot_extensions(predictor, keep):
    """The trainer and network snapshot extensions, each keeping its last ``keep`` files.

    Returns:
        list of two Chainer extensions (``snapshot_iter_N``, ``model_iter_N.npz``): register
        them with a trigger, or call one with the trainer to write it now.
    """
    return [extensions.snapshot(filename=SNAPSHOT, savefun=save_npz_uncompressed,
                                n_retains=keep),
            network_snapshot(predictor, keep)]


def snapshot_path(out, trainer):
    """Where the trainer snapshot of ``trainer``'s current iteration is (or would be)."""
    return Path(out) / SNAPSHOT.format(trainer)


def _snapshots(folder):
    """[(iteration, path)] of the trainer snapshots in ``folder``."""
    return [(int(m.group(1)), p) for p in Path(folder).iterdir()
            if (m := SNAPSHOT_RE.match(p.name)) and p.is_file()]


def latest_snapshot(path):
    """``path`` itself if it is a file, else the snapshot with the highest iteration in it.

    Raises:
        TrainError: no such file or folder, or no snapshot in the folder.
    """
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise TrainError(f"--resume {path}: no such snapshot file or output folder")
    found = _snapshots(path)
    if not found:
        raise TrainError(f"--resume {path}: no snapshot_iter_N file in it (the run stopped "
                         "before its first snapshot; start it again without --resume)")
    return max(found)[1]


def earlier_snapshot(path):
    """The snapshot before the snapshot ``path`` (by iteration) in its folder, or None."""
    m = SNAPSHOT_RE.match(Path(path).name)
    found = [s for s in _snapshots(Path(path).parent) if m and s[0] < int(m.group(1))]
    return max(found)[1] if found else None


def latest_snapshot_or_none(out):
    """:func:`latest_snapshot` of the folder ``out``, or None when it has none."""
    try:
        return latest_snapshot(out)
    except TrainError:
        return None


def remove_partial_snapshots(out):
    """Delete the temporary folders a killed snapshot write leaves (``tmpsnapshot_iter_*``)."""
    for p in Path(out).glob("tmp*_iter_*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def load_snapshot(trainer, snapshot, this_run):
    """Load the trainer snapshot ``snapshot`` into ``trainer`` without pickle; writes nothing.

    Args:
        this_run (str): the run, for the error (e.g. "this run (--arch small, 3 classes, ...)").

    Raises:
        TrainError: the snapshot is damaged (the message names the one before it) or does
            not fit this run.
    """
    try:
        load_into(snapshot, trainer, this_run)
    except NpzMismatch as e:
        raise TrainError(f"cannot resume from {snapshot}: {e.detail}; give the "
                         "options and lists the run was started with") from None
    except NpzError as e:
        earlier = earlier_snapshot(snapshot)
        fix = (f"resume from the one before: --resume {earlier}" if earlier else
               "start the run again without --resume")
        raise TrainError(f"cannot resume from {snapshot}: {e.detail}; {fix}") from None
    log.info("resumed from %s at iteration %d", snapshot, trainer.updater.iteration)
