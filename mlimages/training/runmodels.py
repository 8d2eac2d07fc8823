"""The model files of a run folder: how each is written, which is current, which one is used.

======================  ==================================================================
``model_iter_N.npz``    the network at each snapshot (iteration N), the last K kept
``model.npz``           the network when the run ended or stopped
``current.json``        the model file written last and its iteration: the run's "last" model
``model_best.npz``      the network at its best validation figure (``--best``)
``best.json``           that figure: metric, value, epoch, iteration, file
======================  ==================================================================

Every model is written whole or not at all (:func:`save_model`, Chainer's snapshot writer), and
``current.json`` is rewritten (atomically) after each ``model_iter_N.npz`` and ``model.npz``:
:class:`CurrentModel`, :func:`save_last_model`. So a run killed after a resume, whose old
``model.npz`` sits beside newer ``model_iter_N.npz`` files, still says which model is its last.

:func:`choose_model` is how a consumer (``predict``) picks a file: the best model when the run
kept one, else the last; ``"best"``, ``"last"`` or a path on request; a folder whose newest
model file is not the one it names is refused, naming the newest.
"""

import io
import json
import re
from pathlib import Path
from typing import NamedTuple

from mlimages._chainer import chainer, training
from mlimages._fs import atomic_write_bytes, atomic_write_text
from mlimages.training.options import BEST_METRICS, RunDirError

MODEL, BEST, CURRENT, BEST_RECORD = "model.npz", "model_best.npz", "current.json", "best.json"
MODEL_SNAPSHOT = "model_iter_{.updater.iteration}.npz"
MODEL_SNAPSHOT_RE = re.compile(r"^model_iter_(\d+)\.npz$")
#: What ``--model`` takes besides a path.
MODEL_CHOICES = ("best", "last")


class Chosen(NamedTuple):
    """The model file a consumer uses: path (Path), and note (str: which one, and why)."""

    path: Path
    note: str


# ------------------------------------------------------------------ writing
def save_npz_uncompressed(path, obj):
    """``save_npz`` without compression (AlexNet's 60 M parameters compress slower than an
    epoch between snapshots takes)."""
    chainer.serializers.save_npz(path, obj, compression=False)


def save_model(path, predictor):
    """Write the network's arrays to ``path`` atomically (``save_npz`` format).

    Returns:
        Path: ``path``.
    """
    buffer = io.BytesIO()
    save_npz_uncompressed(buffer, predictor)
    return atomic_write_bytes(path, buffer.getvalue())


def write_current(out, name, updater):
    """Name ``name`` (a file in ``out``) as the model written last, at ``updater``'s iteration."""
    record = {"model": name, "iteration": updater.iteration,
              "epoch": round(float(updater.epoch_detail), 6)}
    atomic_write_text(Path(out) / CURRENT, json.dumps(record) + "\n")


def save_last_model(out, updater, predictor):
    """Write ``model.npz`` (the network as the run ends or stops), then name it current."""
    save_model(Path(out) / MODEL, predictor)
    write_current(out, MODEL, updater)


class CurrentModel(training.Extension):
    """A network snapshot extension (``model_iter_N.npz``) that names each file it writes in
    ``current.json``; everything else is the wrapped extension's."""

    trigger = (1, "epoch")

    def __init__(self, snapshot):
        self.snapshot = snapshot
        self.priority = snapshot.priority

    def initialize(self, trainer):
        self.snapshot.initialize(trainer)  # sets up the removal of all but the last K files

    def on_error(self, trainer, exc, tb):
        self.snapshot.on_error(trainer, exc, tb)

    def finalize(self):
        self.snapshot.finalize()

    def __call__(self, trainer):
        self.snapshot(trainer)
        write_current(trainer.out, MODEL_SNAPSHOT.format(trainer), trainer.updater)


def network_snapshot(predictor, keep):
    """The ``model_iter_N.npz`` extension (the last ``keep`` kept), naming each in current.json."""
    return CurrentModel(chainer.training.extensions.snapshot_object(
        predictor, MODEL_SNAPSHOT, savefun=save_npz_uncompressed, n_retains=keep))


def write_best(out, best):
    """Record ``best`` (a :class:`mlimages.training.best.Best`) as ``best.json`` in ``out``."""
    record = {"metric": best.metric, "value": best.value, "epoch": best.epoch,
              "iteration": best.iteration, "file": BEST}
    atomic_write_text(Path(out) / BEST_RECORD, json.dumps(record, indent=2) + "\n")


# ------------------------------------------------------------------ reading
def _read_record(path, check):
    """The JSON object at ``path`` if ``check(record)`` holds; None if there is no file."""
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RunDirError(f"cannot read {path} ({e}); restore it, or pick a model file "
                          "with --model PATH") from None
    if not isinstance(record, dict) or not check(record):
        raise RunDirError(f"{path} is damaged (not what `mlimages train` writes); restore "
                          "it, or pick a model file with --model PATH")
    return record


def read_best(out):
    """``best.json`` of the run in ``out`` as a dict, or None when the run kept no best model."""
    return _read_record(Path(out) / BEST_RECORD, lambda r: (
        r.get("metric") in BEST_METRICS and isinstance(r.get("value"), (int, float))
        and type(r.get("epoch")) is int and type(r.get("iteration")) is int))


def read_current(out):
    """``current.json`` of the run in ``out`` as a dict, or None (a run from before it)."""
    return _read_record(Path(out) / CURRENT, lambda r: (
        isinstance(r.get("model"), str) and type(r.get("iteration")) is int and
        (r["model"] == MODEL or MODEL_SNAPSHOT_RE.match(r["model"]) is not None)))


def choose_model(out, choice=None):
    """The model file of the run in ``out`` that ``choice`` means.

    Args:
        choice: None (the best model when the run kept one, else the last), ``"best"``,
            ``"last"`` (the file ``current.json`` names), or a model file's path (one in
            ``out`` may be given by its name alone).

    Returns:
        Chosen. The file may be missing (:func:`mlimages.training.rundir.load_run` says so).

    Raises:
        RunDirError: no best model for ``"best"``, no such path, a damaged record, or a
            model file newer than the one the folder names as its last.
    """
    out = Path(out)
    if choice is None:
        return _best(out) if (out / BEST_RECORD).is_file() else _last(out)
    if choice == "best":
        return _best(out)
    if choice == "last":
        return _last(out)
    return _path(out, choice)


def _best(out):
    best = read_best(out)
    if best is None:
        raise RunDirError(f"{out}: no best model (no {BEST_RECORD}): the run had no validation "
                          "list, or was made before mlimages kept one; use --model last")
    return Chosen(out / BEST, f"{out / BEST} (best {best['metric']} {best['value']:.4g} at "
                              f"epoch {best['epoch']}, iteration {best['iteration']})")


def _model_files(out):
    """``model.npz`` and every ``model_iter_N.npz`` in ``out`` that exist."""
    return [p for p in out.iterdir() if p.is_file() and
            (p.name == MODEL or MODEL_SNAPSHOT_RE.match(p.name))] if out.is_dir() else []


def _newest(files):
    return max(files, key=lambda p: p.stat().st_mtime_ns) if files else None


def _last(out):
    """The model ``current.json`` names, unless a ``model_iter_N.npz`` is of a later iteration
    (iterations, not file times, decide: a copied folder keeps its meaning)."""
    current = read_current(out)
    if current is None:
        return _last_without_record(out, _newest(_model_files(out)))
    named, iteration = out / current["model"], current["iteration"]
    later = [(int(m.group(1)), p) for p in _model_files(out)
             if (m := MODEL_SNAPSHOT_RE.match(p.name)) and int(m.group(1)) > iteration]
    if later:
        n, newest = max(later)
        raise RunDirError(f"{out / CURRENT} names {named.name} (iteration {iteration}) as the "
                          f"last model, but {newest.name} is newer (iteration {n}; a run "
                          "stopped between writing and naming it?); choose one: --model "
                          f"{newest} or --model {named}")
    return Chosen(named, f"{named} (the last model written, iteration {iteration})")


def _last_without_record(out, newest):
    """A run folder from before ``current.json``: ``model.npz`` if no model file is newer."""
    model = out / MODEL
    if newest is None or newest == model or (
            model.is_file() and newest.stat().st_mtime_ns <= model.stat().st_mtime_ns):
        return Chosen(model, f"{model}")
    if not model.is_file():
        raise RunDirError(f"{out}: no {MODEL}, and no {CURRENT} says which model is the last; "
                          f"the newest model file is {newest.name}: give --model {newest}")
    raise RunDirError(f"{out}: no {CURRENT} says which model is the last, and {newest.name} "
                      f"is newer than {MODEL}; choose one: --model {newest} or --model {model}")


def _path(out, choice):
    path = Path(choice)
    if not path.is_file() and (out / choice).is_file():
        path = out / choice
    if not path.is_file():
        raise RunDirError(f"--model {choice}: no such model file (looked for it as given and "
                          f"in {out}); give {' or '.join(MODEL_CHOICES)}, or a file such as "
                          f"{out / 'model_iter_N.npz'}")
    return Chosen(path, f"{path}")
