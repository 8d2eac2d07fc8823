"""Class-per-folder tree → ``path label`` list files, splits and verification.

The tree looks like torchvision's ``ImageFolder`` expects it::

    ROOT/
      cat/001.jpg          class "cat"
      cat/persian/002.jpg  flattened into "cat" (or class "cat/persian" with nested="split")
      dog/003.png          class "dog"
      loose.jpg            a class of its own only with loose_class="NAME"

Class indices follow the sorted class names (the order of torchvision's
``ImageFolder`` and Keras), so models interoperate.  Hidden files and
folders (``.ipynb_checkpoints``) are skipped, symlinked folders are followed
only on request and never twice (loops end), unreadable folders are reported.

Modules: ``options`` (LabelOptions, LabelResult, LabelError, the checks), ``tree`` (walking
the folders), ``split`` (stratified splits, duplicate groups as units), ``dedup``
(``--group-duplicates``, ``--drop-duplicates``), ``verify`` (``--verify`` on a process pool);
this one writes the lists and the summary.
"""

import logging
from pathlib import Path

from mlimages import listfile
from mlimages._fs import atomic_write_text
from mlimages.label.options import (IMAGE_EXTENSIONS, NESTED_MODES, SPLITS, LabelError,
                                    LabelOptions, LabelResult, check_out)
from mlimages.label.dedup import drop_duplicates, duplicate_groups
from mlimages.label.split import grouped_splits, stratified_splits
from mlimages.label.tree import relative, scan_tree
from mlimages.label.verify import verify_files
from mlimages.mean.files import list_companions

__all__ = ["IMAGE_EXTENSIONS", "NESTED_MODES", "SPLITS", "LabelError", "LabelOptions", "LabelResult",
           "label_tree", "scan_tree", "spaces_warning", "summary_table", "verify_files"]

log = logging.getLogger(__name__)


def _merge_classes(out, names):
    """With append: keep the indices of label_def.txt and add new names after."""
    path = Path(out) / "label_def.txt"
    old = listfile.read_label_def(path) if path.exists() else []
    return old + [n for n in names if n not in old]


def label_tree(root, out, opts=None, progress=True):
    """Label the class-per-folder tree ``root`` and write the lists into ``out``.

    Writes ``train.txt`` (plus ``val.txt``/``test.txt`` when asked),
    ``label_def.txt`` and, when anything was rejected, ``rejects.txt``; all
    atomically.  Paths are relative to ``opts.path_root`` (default ``root``),
    with ``/`` separators, written as :func:`mlimages.listfile.format_path` says
    (a file whose name a list cannot hold is a reject).  ``out`` is checked
    before any work.  Files of an earlier run that this one does not write are
    removed (:func:`_remove_stale`).  Returns a :class:`LabelResult`.
    """
    opts = opts or LabelOptions()
    root, out = Path(root), Path(out)
    check_out(out, opts)
    found, result = scan_tree(root, opts, progress)
    if not any(found.values()):
        raise LabelError(f"found no image under {root} (extensions: "
                         f"{' '.join(opts.extensions)}); expected one folder per class")
    base = Path(opts.path_root) if opts.path_root else root
    if opts.label is not None:
        index = {"": opts.label}
        result.classes = []
    else:
        result.classes = _merge_classes(out, sorted(found)) if opts.append else sorted(found)
        index = {name: i for i, name in enumerate(result.classes)}
    found, groups = _deduplicate(found, result, base, opts, progress)
    if groups and opts.group_duplicates:
        result.splits = splits = grouped_splits(found, groups, index, base, opts)
    else:
        result.splits = splits = stratified_splits(found, index, base, opts)
    _warn_without_val(found, index, splits, opts)
    result.rejects = [(relative(p, base), r) for p, r in result.rejects]
    result.spaced_paths = [e.path for s in SPLITS for e in splits[s]
                           if any(c.isspace() for c in e.path)]
    _write_outputs(out, opts, result)
    _remove_stale(out, opts, result)
    return result


def _deduplicate(found, result, base, opts, progress):
    """With --group-duplicates or --drop-duplicates: the duplicate groups (counted in
    ``result``); with --drop-duplicates, ``found`` without all but the largest image of each
    (the others are rejects). Returns (found, groups still in found)."""
    if not (opts.group_duplicates or opts.drop_duplicates):
        return found, []
    groups = duplicate_groups(found, opts, progress)
    result.duplicate_groups = len(groups)
    result.grouped_images = sum(len(g) for g in groups)
    if not opts.drop_duplicates:
        return found, groups
    found, rejects = drop_duplicates(found, groups, lambda p: relative(p, base))
    result.rejects.extend(rejects)
    return found, []


def _warn_without_val(found, index, splits, opts):
    """With ``opts.val`` > 0, log a warning naming the classes that got no validation image
    (``round(n * val)`` is 0 for so few images): their accuracy would go unmeasured."""
    if opts.val <= 0:
        return
    with_val = {e.label for e in splits["val"]}
    small = [f"{name or f'label {opts.label}'} ({len(found[name])} image"
             f"{'' if len(found[name]) == 1 else 's'})"
             for name in sorted(found) if found[name] and index[name] not in with_val]
    if small:
        log.warning("no validation image for %d class%s: %s; --val %g of so few images "
                    "rounds to none, so val.txt cannot measure them: add images to those "
                    "classes or raise --val", len(small), "" if len(small) == 1 else "es",
                    ", ".join(small), opts.val)


def _write_outputs(out, opts, result):
    out.mkdir(parents=True, exist_ok=True)
    wanted = {"train": True, "val": opts.val > 0, "test": opts.test > 0}
    for split in SPLITS:
        if wanted[split]:
            path = out / f"{split}.txt"
            listfile.write_list(path, result.splits[split], append=opts.append)
            result.written.append(path)
    if opts.label is None:
        result.written.append(listfile.write_label_def(out / "label_def.txt", result.classes))
    if result.rejects:
        # TAB-separated: a path may contain spaces, a reason always does.
        text = "".join(f"{_escaped(p)}\t{reason}\n" for p, reason in result.rejects)
        result.written.append(atomic_write_text(out / "rejects.txt", text))


def _remove_stale(out, opts, result):
    """Remove the files an earlier run left in ``out`` that would now mislead; list them in
    ``result.removed``.

    Without ``append``: the lists and ``rejects.txt`` this run did not write (an old
    ``test.txt`` would hold images now in ``train.txt``). Always: what ``mlimages mean``
    wrote beside a list this run wrote or removed (``train_used_in_mean.txt``, ...), which
    describes the list as it was. Folders are left alone.
    """
    stale = []
    for split in SPLITS:
        path = out / f"{split}.txt"
        written = path in result.written
        if not written and not opts.append:
            stale.append(path)
        if written or not opts.append:
            stale.extend(list_companions(path).values())
    if not result.rejects and not opts.append:
        stale.append(out / "rejects.txt")
    for path in stale:
        if path.is_symlink() or path.is_file():
            path.unlink()
            result.removed.append(path)


def _escaped(path):
    """``path`` for a line of rejects.txt: TAB and line breaks shown as ``\\t``, ``\\n``..."""
    return path.translate({9: "\\t", 10: "\\n", 13: "\\r"})


def summary_table(result):
    """Return the printed summary: per-class counts per split, and rejects."""
    splits = [s for s in SPLITS if result.splits.get(s)] or ["train"]
    counts = {}
    for split in splits:
        for entry in result.splits[split]:
            counts.setdefault(entry.label, dict.fromkeys(splits, 0))[split] += 1
    names = dict(enumerate(result.classes))
    width = max([len("class")] + [len(n) for n in result.classes]) + 2
    lines = ["index  " + "class".ljust(width) + "".join(s.rjust(8) for s in splits)]
    for label in sorted(counts):
        row = counts[label]
        lines.append(f"{label:5d}  " + names.get(label, "").ljust(width)
                     + "".join(str(row[s]).rjust(8) for s in splits))
    total = {s: len(result.splits[s]) for s in splits}
    lines.append("total  " + "".ljust(width) + "".join(str(total[s]).rjust(8) for s in splits))
    lines.append(f"rejected: {len(result.rejects)}"
                 + ("  (see rejects.txt)" if result.rejects else ""))
    if result.empty_classes:
        lines.append("empty class folders (no usable image, not indexed): "
                     + ", ".join(result.empty_classes))
    if result.skipped_files:
        lines.append(f"skipped {result.skipped_files} files without an image extension")
    if result.duplicate_groups:
        dropped = sum(r.startswith("duplicate_of ") for _, r in result.rejects)
        lines.append(f"duplicate groups: {result.duplicate_groups} ({result.grouped_images} "
                     "images), " + (f"{dropped} duplicates dropped (rejects.txt)" if dropped
                                    else "each merged into one unit of the split"))
    return "\n".join(lines)


def spaces_warning(result, examples=3):
    """Return a warning text when written paths contain whitespace, else ''."""
    if not result.spaced_paths:
        return ""
    shown = ", ".join(repr(p) for p in result.spaced_paths[:examples])
    return (f"warning: {len(result.spaced_paths)} paths contain whitespace (e.g. {shown}); "
            "mlimages reads them, but Chainer's LabeledImageDataset and Caffe split lines "
            "on any whitespace and cannot: rename those files for those tools")
