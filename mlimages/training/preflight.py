"""Before the first iteration: is every listed image there?

A wrong ``--root`` used to print one WARNING per image and then give up deep in the first
epoch; a list with a sixth of its files missing trained to the end with exit status 0 and the
warnings scrolled away. :func:`count_missing` stats every listed file (thousands a second, no
decoding) and :func:`check_missing` stops the run when more than ``max_missing`` of a list is
missing, naming the first few paths and, when the paths look made on another machine, the
prefix they share.
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


def count_missing(list_file, root):
    """Stat every entry of ``list_file`` under ``root``; returns Missing.

    A path that exists but is not a regular file (a folder) counts as missing.
    """
    entries = listfile.read_list(list_file)
    root = str(root)
    missing = [e.path for e in entries if not os.path.isfile(os.path.join(root, e.path))]
    return Missing(str(list_file), len(entries), missing)


def check_missing(found, root, max_missing):
    """Raise TrainError when more than ``max_missing`` (a fraction) of a list is missing.

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
                     + hint(found.paths, root))


def hint(paths, root):
    """What to try, from how the missing paths look."""
    absolute = [p for p in paths if os.path.isabs(p)]
    if absolute:
        prefix = os.path.commonpath(absolute)
        return (f"The list holds absolute paths under {prefix}, which this machine lacks: "
                "the list was probably made on another machine; rewrite that prefix to where "
                "the images are here, or make the list again with `mlimages label`")
    if not Path(root).is_dir():
        return f"--root {root} is not a folder: give the folder the list's paths start from"
    return (f"Check that --root {root} is the folder the list's paths start from (the one "
            "given to `mlimages label`), or raise --max-missing to train without them")
