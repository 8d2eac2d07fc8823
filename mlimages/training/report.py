"""A run's figures under human names: the epochs read back from the log, the printed rows,
the start line.

Chainer's LogReport keeps its keys (``main/loss``, ``validation/main/accuracy``) in ``log``
and ``log.csv``; the screen and the plots use :data:`NAMES`. A log entry is the mean over
the iterations since the entry before it, and the log has an entry every ``--log-interval``
iterations and at every epoch's end, so :func:`epoch_rows` weighs the entries of an epoch by
the iterations each covers: the training figures of a row are the epoch's own.
No Chainer import: this module reads plain dicts.
"""

import os
from typing import NamedTuple

#: The log's keys and the names a person reads (Keras's ``val_`` prefix for validation).
NAMES = {"main/loss": "loss", "main/accuracy": "acc", "validation/main/loss": "val_loss",
         "validation/main/accuracy": "val_acc", "lr": "lr"}


class EpochRow(NamedTuple):
    """One epoch, as the table prints it and the plots draw it.

    Attributes: epoch (int, 1-based), iteration (at the epoch's end); loss, acc (means over
    the epoch's iterations), val_loss, val_acc (the evaluation at its end), lr: floats or
    None; seconds (float, the epoch's wall time, evaluation included).
    """

    epoch: int
    iteration: int
    loss: "float | None"
    acc: "float | None"
    val_loss: "float | None"
    val_acc: "float | None"
    lr: "float | None"
    seconds: float


def epoch_rows(log):
    """The epochs of a LogReport log (a list of dicts, as the ``log`` file holds it).

    An epoch's end is the first entry whose ``epoch`` is that epoch's number (entries logged
    later in the next epoch carry the same number); entries after the last epoch's end (a
    run stopped mid-epoch) make no row.

    Returns:
        list of EpochRow, in order.
    """
    rows, done, start, elapsed = [], 0, 0, 0.0
    for end, entry in enumerate(log):
        if entry.get("epoch", 0) <= done:
            continue
        part = log[start:end + 1]
        previous = log[start - 1]["iteration"] if start else 0
        weights = [e["iteration"] - p for e, p in
                   zip(part, [previous] + [e["iteration"] for e in part[:-1]])]
        loss, acc, lr = (_weighted(part, weights, k) for k in ("main/loss", "main/accuracy", "lr"))
        rows.append(EpochRow(entry["epoch"], entry["iteration"], loss, acc,
                             entry.get("validation/main/loss"),
                             entry.get("validation/main/accuracy"), lr,
                             entry.get("elapsed_time", elapsed) - elapsed))
        done, start, elapsed = entry["epoch"], end + 1, entry.get("elapsed_time", elapsed)
    return rows


def _weighted(entries, weights, key):
    """The mean of ``key`` over ``entries`` weighted by ``weights`` (None: no entry has it)."""
    pairs = [(e[key], w) for e, w in zip(entries, weights) if e.get(key) is not None]
    total = sum(w for _, w in pairs)
    if not pairs:
        return None
    return sum(v * w for v, w in pairs) / total if total > 0 else pairs[-1][0]


def last_epoch(log):
    """The last finished epoch as a log entry (the log's keys), its training figures the
    epoch's means as the table prints them; the last entry when no epoch finished; {} for an
    empty log."""
    rows = epoch_rows(log)
    if not rows:
        return dict(log[-1]) if log else {}
    row = rows[-1]
    end = next(e for e in log if e["iteration"] == row.iteration)
    means = {"main/loss": row.loss, "main/accuracy": row.acc, "lr": row.lr}
    return end | {k: v for k, v in means.items() if v is not None}


def best_epoch(rows, metric="val_loss"):
    """The row with the lowest ``val_loss`` (or the highest ``val_acc``); the earliest of
    equals; None when no row has the metric (a run without a validation list)."""
    scored = [r for r in rows if getattr(r, metric) is not None]
    if not scored:
        return None
    sign = -1 if metric == "val_acc" else 1
    return min(scored, key=lambda r: (sign * getattr(r, metric), r.epoch))


# ------------------------------------------------------------------ printed lines
_WIDTH = 10


def header(validation):
    """The table's column names; without a validation list, no ``val_`` columns."""
    names = ["loss", "acc"] + (["val_loss", "val_acc"] if validation else []) + ["lr", "time"]
    return "epoch" + "".join(n.rjust(_WIDTH) for n in names)


def epoch_line(row, validation):
    """One row under :func:`header`: the epoch, its figures, lr, seconds (``12.3s``)."""
    values = [row.loss, row.acc] + ([row.val_loss, row.val_acc] if validation else [])
    cells = [_number(v) for v in values] + [_number(row.lr, "g"), f"{row.seconds:.1f}s"]
    return f"{row.epoch:5d}" + "".join(c.rjust(_WIDTH) for c in cells)


def interval_line(entry):
    """A ``--log-interval`` row: the iteration and the training figures since the row before,
    marked ``(interval)`` so it is not read as an epoch."""
    loss, acc = (_number(entry.get(k)) for k in ("main/loss", "main/accuracy"))
    return f"  iter {entry['iteration']:<6d} loss {loss}  acc {acc}  (interval)"


def _number(value, kind="f"):
    if value is None:
        return "-"
    return f"{value:.4g}" if kind == "g" else f"{value:.4f}"


def metrics_text(entry, at=None):
    """``loss 0.5021  acc 0.8125  val_loss ...`` from a log entry (its raw keys), figures as
    the table prints them; ``(epoch 3)`` after them when that is not ``at`` (the epoch_detail
    the run stopped at)."""
    figures = "  ".join(f"{NAMES[k]} {_number(entry[k])}" for k in NAMES
                        if k != "lr" and entry.get(k) is not None)
    epoch = entry.get("epoch")
    return figures if epoch is None or epoch == at else f"{figures} (epoch {epoch})"


# ------------------------------------------------------------------ the start line
def start_line(n_train, n_val, n_classes, arch, n_params, device):
    """``Found N images in K classes (train), M (val); model ARCH, P parameters; device D``.

    Args: counts (int; ``n_val`` None without a validation list), ``arch`` (str),
    ``n_params`` (int), ``device`` (a Chainer device, see :func:`device_text`).
    """
    val = f", {n_val} (val)" if n_val is not None else ", no validation list"
    return (f"Found {n_train} images in {n_classes} classes (train){val}; model {arch}, "
            f"{parameters_text(n_params)} parameters; device {device_text(device)}")


def parameter_count(link):
    """The number of scalars in the parameters of ``link`` (a Chainer Link, materialised)."""
    return sum(p.size for p in link.params() if p.array is not None)


def parameters_text(count):
    """57_000_000 -> ``57.0 M``; 262_000 -> ``262 k``."""
    return f"{count / 1e6:.1f} M" if count >= 1e6 else f"{count / 1e3:.0f} k"


_BLAS_NAMES = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS", "flexiblas": "FlexiBLAS"}


def device_text(device):
    """``CPU (2 threads, OpenBLAS SkylakeX)`` or ``GPU 0 (NVIDIA H200)`` for a Chainer device.

    The CPU's threads and kernel are those of NumPy's BLAS library, as ``mlimages info``
    reads them (threadpoolctl); without one, the usable cores.
    """
    gpu = getattr(getattr(device, "device", None), "id", None)
    if gpu is not None:
        import cupy
        name = cupy.cuda.runtime.getDeviceProperties(gpu)["name"]
        return f"GPU {gpu} ({name.decode() if isinstance(name, bytes) else name})"
    from threadpoolctl import threadpool_info
    blas = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    if not blas:
        return f"CPU ({os.cpu_count()} cores, no BLAS library found)"
    lib = blas[0]
    api = lib.get("internal_api", "")
    kernel = " ".join(filter(None, (_BLAS_NAMES.get(api, api), lib.get("architecture"))))
    threads = lib.get("num_threads")
    return f"CPU ({threads} thread{'' if threads == 1 else 's'}, {kernel})"
