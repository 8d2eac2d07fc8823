"""Before the first iteration: is every listed image there?

A wrong ``--root`` used to print one WARNING per image and then give up deep in the first
epoch; a list with a sixth of its files missing trained to the end with exit status 0 and the
warnings scrolled away. :func:`count_missing` stats every listed file (thousands a second, no
decoding) and :func:`check_missing` stops the run when more than ``max_missing`` of a list is
missing, naming the first few paths and, when the paths look made on another machine, the
prefix they share and the flag that moves it (``--rewrite-prefix OLD=NEW``, applied by
:func:`rewritten`).
"""

import os
from pathlib import Path
from typing import NamedTuple

from mlimages import listfile
from mlimages.training.options import TrainError

SHOWN = 3  # missing paths named in a message


class Missing(NamedTuple):
    """The result of :func:`count_missing` for one list.

    Attributes: ``list_file`` (str), ``total`` (entries), ``paths`` (the missing entries' paths
    as listed, in list order).
    """

    list_file: str
    total: int
    paths: list

    @property
    def fraction(self):
        return len(self.paths) / self.total if self.total else 0.0


def rewritten(entries, rules):
    """``entries`` with each path under a rule's OLD folder moved under its NEW one.

    Args:
        entries: list of :class:`mlimages.listfile.Entry`.
        rules: (OLD, NEW) pairs (:func:`mlimages.listfile.parse_prefix_rule`); for each entry
            the first rule that matches is applied (:func:`mlimages.listfile.rewrite_prefix`).

    Returns:
        list of Entry, in the order of ``entries``.
    """
    if not rules:
        return list(entries)
    out = []
    for entry in entries:
        moved = (listfile.rewrite_prefix([entry], old, new)[0] for old, new in rules)
        out.append(next((m for m in moved if m != entry), entry))
    return out


def count_missing(list_file, root, rules=(), cached=None):
    """Stat every entry of ``list_file`` under ``root``; returns Missing.

    ``rules`` ((OLD, NEW) pairs) move paths first, as :func:`rewritten`; the missing paths
    are then given as moved. ``cached``: a function of those entries that tells, per entry,
    whether the loader's cache holds the image already (it then needs no file:
    :func:`mlimages.loader.cache.stored`). A path that exists but is not a regular file (a
    folder) counts as missing.
    """
    entries = rewritten(listfile.read_list(list_file), rules)
    held = cached(entries) if cached is not None else [False] * len(entries)
    root = str(root)
    missing = [e.path for e, h in zip(entries, held)
               if not h and not os.path.isfile(os.path.join(root, e.path))]
    return Missing(str(list_file), len(entries), missing)


def check_missing(found, root, max_missing, rules=()):
    """Raise TrainError when more than ``max_missing`` (a fraction) of a list is missing;
    ``rules``: the (OLD, NEW) pairs ``found`` was counted with, named in the hint.

    Returns:
        a one-line warning (str) when some but not too many are missing, else None.
    """
    if not found.paths:
        return None
    shown = ", ".join(found.paths[:SHOWN]) + (", ..." if len(found.paths) > SHOWN else "")
    what = (f"{found.list_file}: {len(found.paths)} of {found.total} listed images are "
            f"missing under --root {root} ({found.fraction:.1%}): {shown}")
    if found.fraction <= max_missing:
        return what + "; they will be skipped"
    raise TrainError(f"{what}; more than --max-missing {max_missing:g} of the list. "
                     + hint(found.paths, root, rules))


def hint(paths, root, rules=()):
    """What to try, from how the missing paths look (and the rules they were moved by)."""
    given = ("; the paths shown are as moved by --rewrite-prefix "
             + " ".join(f"{old}={new}" for old, new in rules)) if rules else ""
    absolute = [p for p in paths if os.path.isabs(p)]
    if absolute:
        prefix = os.path.commonpath([os.path.dirname(p) for p in absolute])
        return (f"The list holds absolute paths under {prefix}, which this machine lacks: "
                "the list was probably made on another machine; give --rewrite-prefix "
                f"{prefix}=DIR (DIR: where those images are here), or make the list again "
                f"with `mlimages label`{given}")
    if not Path(root).is_dir():
        return (f"--root {root} is not a folder: give the folder the list's paths start "
                f"from{given}")
    return (f"Check that --root {root} is the folder the list's paths start from (the one "
            f"given to `mlimages label`), or raise --max-missing to train without them{given}")
