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
