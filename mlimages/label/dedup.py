"""``--group-duplicates`` and ``--drop-duplicates``: the audit's duplicate groups, for the split.

Every image is scanned once as ``mlimages audit`` scans it (:mod:`mlimages.audit.scan`) and
grouped by the same bytes, the same pixels or a dhash within ``near`` bits
(:func:`mlimages.audit.groups.find_groups`, mirrored copies included).
"""

from mlimages.audit.groups import find_groups
from mlimages.audit.scan import scan_files


def duplicate_groups(found, opts, progress=True):
    """The duplicate groups among the images of ``found``.

    Args:
        found (dict): class name -> image files (Paths).
        opts (LabelOptions): ``near`` and ``workers`` are used.

    Returns:
        list of lists of Paths, the image to keep (the largest) first; groups of two or more.
    """
    paths = [p for name in sorted(found) for p in found[name]]
    scanned = scan_files(paths, opts.workers, progress)
    return [[paths[m.index] for m in group] for group in find_groups(scanned, opts.near)]


def drop_duplicates(found, groups, name_of):
    """``found`` without the images of each group but the first.

    Args:
        found (dict): class name -> image files.
        groups: as :func:`duplicate_groups` returns them.
        name_of: Path -> the path as written in the lists (the reject names the kept one so).

    Returns:
        (found, rejects): the images kept per class, and ``[(path, "duplicate_of KEPT")]``.
    """
    dropped = {p: kept for kept, *rest in groups for p in rest}
    rejects = sorted((p, f"duplicate_of {name_of(kept)}") for p, kept in dropped.items())
    kept = {name: [p for p in files if p not in dropped] for name, files in found.items()}
    return kept, rejects

