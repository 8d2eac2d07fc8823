"""Stratified train/val/test splits: each class is split on its own, all from one seeded RNG."""

import random

from mlimages import listfile
from mlimages.label.options import SPLITS
from mlimages.label.tree import relative


def split_class(files, val, test, rng):
    """Split one class's files into train/val/test (stratified by calling per class).

    ``round(n * val)`` files go to val and ``round(n * test)`` to test (test gives way when
    the two exceed n), drawn by ``rng.shuffle``; each part is returned sorted.
    """
    files = list(files)
    rng.shuffle(files)
    n_val = int(round(len(files) * val))
    n_test = int(round(len(files) * test))
    if n_val + n_test > len(files):
        n_test = len(files) - n_val
    return {"val": sorted(files[:n_val]),
            "test": sorted(files[n_val:n_val + n_test]),
            "train": sorted(files[n_val + n_test:])}


def stratified_splits(found, index, base, opts):
    """The list entries of every split.

    Args:
        found (dict): class name -> its image files (Paths).
        index (dict): class name -> label.
        base: the folder the written paths are relative to.
        opts (LabelOptions): ``val``, ``test``, ``seed`` and ``shuffle`` are used.

    Returns:
        dict: each name of ``SPLITS`` -> list of ``listfile.Entry``, classes in sorted order
        (each class's files sorted), or shuffled with ``opts.shuffle``; the same for the same seed.
    """
    rng = random.Random(opts.seed)
    splits = {s: [] for s in SPLITS}
    for name in sorted(found):
        parts = split_class(found[name], opts.val, opts.test, rng)
        for split, files in parts.items():
            splits[split].extend(listfile.Entry(relative(p, base), index[name]) for p in files)
    if opts.shuffle:
        for split in SPLITS:
            rng.shuffle(splits[split])
    return splits


def split_units(units, val, test, rng):
    """Split one class's units (lists of files kept together) into train/val/test.

    The units are shuffled; each goes to val while val holds fewer than ``round(n * val)``
    files (n: the class's files), then to test likewise, then to train. With units of one
    file each this is :func:`split_class`, drawn in the same order.
    """
    units = list(units)
    rng.shuffle(units)
    n = sum(len(u) for u in units)
    want = {"val": int(round(n * val)), "test": int(round(n * test))}
    if want["val"] + want["test"] > n:
        want["test"] = n - want["val"]
    parts = {"val": [], "test": [], "train": []}
    for unit in units:
        split = next((s for s in ("val", "test") if len(parts[s]) < want[s]), "train")
        parts[split].extend(unit)
    return {s: sorted(files) for s, files in parts.items()}


def grouped_splits(found, groups, index, base, opts):
    """:func:`stratified_splits` that keeps each duplicate group in one split.

    Args:
        groups: lists of files (Paths) to keep together (``dedup.duplicate_groups``); a
            group's files may lie in several classes: it is split with its first file's class
            and its other files follow it.
        found, index, base, opts: as :func:`stratified_splits`.

    Returns:
        as :func:`stratified_splits`; every group's files in one split.
    """
    rng = random.Random(opts.seed)
    class_of = {p: name for name, files in found.items() for p in files}
    grouped = {p for g in groups for p in g}
    units = {name: [[p] for p in sorted(files) if p not in grouped] for name, files in found.items()}
    for group in groups:
        units[class_of[group[0]]].append(sorted(group))
    splits = {s: [] for s in SPLITS}
    for name in sorted(found):
        for split, files in split_units(units[name], opts.val, opts.test, rng).items():
            splits[split].extend(listfile.Entry(relative(p, base), index[class_of[p]])
                                 for p in files)
    for split in SPLITS:
        splits[split].sort(key=lambda e: (e.label, e.path))
        if opts.shuffle:
            rng.shuffle(splits[split])
    return splits
