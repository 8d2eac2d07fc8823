"""The few lines the CLI prints when a run ends: how it ended, its figures, where things are."""

from mlimages.training.report import metrics_text
from mlimages.training.runmodels import BEST


def summary(result):
    """A few lines on what a run did, for the CLI."""
    state = ("finished" if result.finished else "stopped early") + (
        " (interrupted)" if result.interrupted and result.finished else "")
    lines = [f"{state} at iteration {result.iteration}, epoch {result.epoch:.2f}: "
             f"{metrics_text(result.last, result.epoch)}"]
    if result.stopped:
        lines.append(f"stopped because {result.stopped}")
    if result.best is not None:
        lines.append(f"best model: {BEST}, {result.best.describe()}; predict uses it by "
                     "default (--model last: the last one)")
    if result.ranks > 1:
        lines.append(f"distributed over {result.ranks} ranks: batch {result.batchsize} per "
                     f"rank, effective batch {result.batchsize * result.ranks}, lr "
                     f"{result.lr:g} (the linear-scaling rule suggests lr "
                     f"{result.lr * result.ranks:g})")
    if result.loaded is not None:
        lines.append("loaded: " + (", ".join(result.loaded.loaded) or "nothing"))
        lines.append("re-initialised: " + (", ".join(result.loaded.reinitialised) or "none"))
    if result.frozen:
        lines.append("frozen: " + ", ".join(result.frozen))
    if result.skipped:
        shown = "; ".join(f"{f.path}: {f.reason}" for f in result.skipped[:3])
        lines.append(f"skipped {len(result.skipped)} unreadable image"
                     f"{'s' if len(result.skipped) > 1 else ''}, each replaced by another: "
                     + shown + ("; ..." if len(result.skipped) > 3 else ""))
    lines.append(f"outputs in {result.out}/: model.npz, "
                 + (f"{BEST}, best.json, " if result.best is not None else "")
                 + "current.json, log, log.csv, curves.png (loss.png, accuracy.png), args.json")
    if result.snapshot:
        lines.append(f"latest snapshot: {result.snapshot} (continue with --resume "
                     f"{result.out})")
    return "\n".join(lines)
