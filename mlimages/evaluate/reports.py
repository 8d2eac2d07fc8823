"""The files of an evaluation, and its printed summary.

``OUT/`` (default ``RESULT/eval-<list stem>/``) receives:

===================  ===========================================================================
``report.json``      every figure; the model, list, root and TTA mode; the unreadable images
``per_class.csv``    label, class, support, precision, recall, F1
``confusion.csv``    counts, a row per true class, a column per predicted class, with names
``confusion.png``    the same, normalised by row (:mod:`mlimages.evaluate.plots`)
``predictions.csv``  path, true, true_name, predicted, predicted_name, confidence, top_k
``probs.npy``        float32 (N, K): row i is line i of predictions.csv (list order, the
                     unreadable images left out)
``mistakes.csv``     the wrong predictions, the most confident first, with the true class's
                     probability
``mistakes.png``     a contact sheet of the worst 25
===================  ===========================================================================

Every file is written atomically.
"""

import csv
import io
import json
from pathlib import Path

import numpy

from mlimages._fs import atomic_write_bytes, atomic_write_text
from mlimages.evaluate import metrics, plots
from mlimages.image import ImageSpec

FILES = ("report.json", "per_class.csv", "confusion.csv", "confusion.png", "predictions.csv",
         "probs.npy", "mistakes.csv", "mistakes.png")
#: Unreadable images printed (all are in report.json).
_PRINTED = 10


def _csv(rows):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _npy(array):
    buffer = io.BytesIO()
    numpy.save(buffer, array)
    return buffer.getvalue()


def write_reports(ev):
    """Write every file of ``FILES`` for the Evaluation ``ev`` into ``ev.out``; returns them."""
    out = Path(ev.out)
    fig = ev.figures
    confidence = ev.probs.max(axis=1)
    wrong = metrics.mistakes(ev.true, fig.predicted, confidence)
    names = ev.names
    contents = {
        "report.json": json.dumps(report_dict(ev), indent=2) + "\n",
        "per_class.csv": _csv([("label", "class", "support", "precision", "recall", "f1")] + [
            (i, names[i], int(fig.per_class.support[i]), f"{fig.per_class.precision[i]:.6f}",
             f"{fig.per_class.recall[i]:.6f}", f"{fig.per_class.f1[i]:.6f}")
            for i in range(len(names))]),
        "confusion.csv": _csv([("true \\ predicted", *names)] + [
            (names[i], *map(int, row)) for i, row in enumerate(fig.confusion)]),
        "predictions.csv": _csv(_prediction_rows(ev, confidence)),
        "mistakes.csv": _csv([("path", "true", "true_name", "predicted", "predicted_name",
                               "confidence", "true_prob")] + [
            (ev.paths[i], ev.true[i], names[ev.true[i]], fig.predicted[i],
             names[fig.predicted[i]], f"{confidence[i]:.6f}",
             f"{ev.probs[i, ev.true[i]]:.6f}") for i in wrong]),
    }
    written = [atomic_write_text(out / name, text) for name, text in contents.items()]
    written.append(atomic_write_bytes(out / "probs.npy", _npy(ev.probs.astype(numpy.float32))))
    sheet = [(ev.paths[i], ev.true[i], fig.predicted[i], confidence[i]) for i in wrong]
    spec = ImageSpec(size=ev.size, resize=ev.resize)
    written.append(atomic_write_bytes(out / "confusion.png", plots.png_bytes(
        plots.confusion_figure(fig.confusion, names))))
    written.append(atomic_write_bytes(out / "mistakes.png", plots.png_bytes(
        plots.mistakes_figure(sheet, names, spec))))
    return written


def _prediction_rows(ev, confidence):
    top = metrics.top_k(ev.probs, ev.figures.k)
    rows = [("path", "true", "true_name", "predicted", "predicted_name", "confidence", "top_k")]
    for i, path in enumerate(ev.paths):
        p = ev.figures.predicted[i]
        guesses = ";".join(f"{ev.names[j]}:{ev.probs[i, j]:.4f}" for j in top[i])
        rows.append((path, ev.true[i], ev.names[ev.true[i]], p, ev.names[p],
                     f"{confidence[i]:.6f}", guesses))
    return rows


def report_dict(ev):
    """report.json's content: what was evaluated, every figure, the unreadable images."""
    fig, names = ev.figures, ev.names
    table = fig.per_class
    return {
        "model": str(ev.model), "list": str(ev.list), "root": ev.root, "tta": ev.tta,
        "images": ev.images, "evaluated": fig.count,
        "unreadable": [{"path": u.path, "reason": u.reason} for u in ev.unreadable],
        "correct": fig.correct, "accuracy": fig.accuracy, "k": fig.k,
        "top_k_correct": fig.top_k_correct, "top_k_accuracy": fig.top_k_accuracy,
        "macro_f1": fig.macro_f1, "weighted_f1": fig.weighted_f1,
        "per_class": [{"label": i, "class": names[i], "support": int(table.support[i]),
                       "precision": float(table.precision[i]),
                       "recall": float(table.recall[i]), "f1": float(table.f1[i])}
                      for i in range(len(names))],
        "most_confused": [{"true": names[t], "predicted": names[p], "count": c}
                          for t, p, c in fig.most_confused],
        "classes": list(names), "confusion": fig.confusion.tolist(),
    }


def format_report(ev):
    """The printed summary: what was evaluated, the figures, the per-class table, the most
    confused pairs, the unreadable images and where the files are."""
    fig = ev.figures
    lines = [f"model {ev.model} on {ev.list} (root {ev.root}, tta {ev.tta}): "
             f"{fig.count} of {ev.images} images evaluated"]
    if ev.unreadable:
        lines.append(f"{len(ev.unreadable)} unreadable, left out of every figure:")
        lines += [f"  {u.path}: {u.reason}" for u in ev.unreadable[:_PRINTED]]
        if len(ev.unreadable) > _PRINTED:
            lines.append(f"  ... and {len(ev.unreadable) - _PRINTED} more (report.json)")
    lines += [f"accuracy        {fig.accuracy:7.2%} ({fig.correct}/{fig.count})",
              f"top-{fig.k} accuracy  {fig.top_k_accuracy:7.2%} "
              f"({fig.top_k_correct}/{fig.count})",
              f"macro F1        {fig.macro_f1:.4f}",
              f"weighted F1     {fig.weighted_f1:.4f}", ""]
    lines += _class_table(ev.names, fig.per_class)
    if fig.most_confused:
        lines += ["", "most confused (true -> predicted: images)"]
        lines += [f"  {ev.names[t]} -> {ev.names[p]}: {c}" for t, p, c in fig.most_confused]
    lines += ["", f"wrote {ev.out}/: {', '.join(FILES)}"]
    return "\n".join(lines)


def _class_table(names, table):
    width = max(5, *(len(n) for n in names))
    lines = [f"{'class':<{width}}  support  precision  recall      F1"]
    for i, name in enumerate(names):
        lines.append(f"{name:<{width}}  {table.support[i]:7d}  {table.precision[i]:9.4f}  "
                     f"{table.recall[i]:6.4f}  {table.f1[i]:6.4f}")
    return lines
