"""What ``mlimages audit`` is given -> the images to scan, each with its split and class.

An argument is a class-per-folder tree (walked as ``mlimages label`` walks it) or a list
file (``path label`` lines, paths relative to ``--root``, default the list's folder; its split
is its name without ``.txt``: ``train``, ``val``, ``test``; its class names come from a
``label_def.txt`` beside it). Given both, the lists give each image its split and the tree its
class; tree images in no list keep no split. A file listed twice is two items (two splits:
the same bytes, a leak).
"""

import os
from pathlib import Path
from typing import NamedTuple

from mlimages import listfile
from mlimages.audit.options import AuditError


class Item(NamedTuple):
    """One image to audit: its file, its split ("" when none) and its class name."""

    path: str
    split: str
    cls: str


def _list_items(list_file, root):
    base = Path(root) if root else list_file.parent
    label_def = list_file.parent / "label_def.txt"
    names = listfile.read_label_def(label_def) if label_def.is_file() else []
    split = list_file.name.removesuffix(".txt")
    return [Item(str(base / e.path), split,
                 names[e.label] if e.label < len(names) else str(e.label))
            for e in listfile.iter_list(list_file)]


def _tree_items(root):
    # Imported here: label imports audit.options (its --near), which runs this package's
    # __init__; a top-level import of label would find label half-initialised.
    from mlimages.label.options import LabelOptions
    from mlimages.label.tree import scan_tree
    found, _ = scan_tree(Path(root), LabelOptions(), progress=False)
    return [Item(str(p), "", name) for name in sorted(found) for p in found[name]]


def collect(sources, root=None):
    """The items of every source, lists' items first, then tree images no list names.

    Args:
        sources: folders (trees) and list files.
        root: the folder list paths are relative to (default: each list's folder).

    Raises:
        AuditError: a source is neither, or nothing was found.
    """
    lists, trees = [], []
    for source in map(Path, sources):
        if source.is_dir():
            trees.extend(_tree_items(source))
        elif source.is_file():
            lists.extend(_list_items(source, root))
        else:
            raise AuditError(f"{source}: no such folder or list file; give a class-per-folder "
                             "tree or list files (train.txt, val.txt)")
    by_file = {}
    for item in trees:
        by_file.setdefault(os.path.realpath(item.path), item)
    listed = set()
    items = []
    for item in lists:
        real = os.path.realpath(item.path)
        listed.add(real)
        tree = by_file.get(real)
        items.append(item._replace(cls=tree.cls) if tree else item)
    items += [t for t in trees if os.path.realpath(t.path) not in listed]
    if not items:
        raise AuditError(f"found no image in {', '.join(map(str, sources))}")
    return items
