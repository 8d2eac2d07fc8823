"""``mlimages label``: its flags (defaults from LabelOptions) and its run.

Building the parser imports :mod:`mlimages.label` (and with it NumPy and Pillow), the stage
that the command runs.
"""

import sys

from mlimages.cli._args import _fraction, _names, add_field, options_from

HELP = "build 'path label' list files and label_def.txt from a class-per-folder tree"

DESCRIPTION = """\
Each immediate subfolder of ROOT is a class; class indices follow the
sorted folder names (torchvision ImageFolder / Keras order).
Writes OUT/train.txt (+ val.txt, test.txt), OUT/label_def.txt and,
when anything was rejected, OUT/rejects.txt. Files of an earlier run
in OUT that this run does not write are removed, and named: lists
and rejects.txt (not with --append), and the LIST_used_in_mean.txt /
LIST_rejects_in_mean.txt of `mlimages mean` beside a list written
again (they describe the list as it was)."""


def add(p):
    """Add label's arguments to the subparser ``p``."""
    p.description = DESCRIPTION
    p.add_argument("root", help="image folder: one subfolder per class")
    p.add_argument("--out", required=True, help="folder for the list files")
    _add_split(p)
    _add_tree(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_split(p):
    """How the images are split into lists and ordered, and whether they are decoded."""
    from mlimages.label import LabelOptions as L
    add_field(p, "--val", L, type=_fraction,
              help="fraction of each class for val.txt (stratified)")
    add_field(p, "--test", L, type=_fraction,
              help="fraction of each class for test.txt (stratified)")
    add_field(p, "--seed", L, type=int, help="seed of the split and shuffle")
    add_field(p, "--shuffle", L, action="store_true",
              help="shuffle the lines of each list (default: sorted by class, path)")
    add_field(p, "--verify", L, action="store_true",
              help="decode every image in parallel; unreadable ones go to rejects.txt")
    add_field(p, "--group-duplicates", L, action="store_true",
              help="keep each group of duplicates (same bytes, pixels or look, as `mlimages "
                   "audit` finds them) in one split")
    add_field(p, "--drop-duplicates", L, action="store_true",
              help="keep the largest image of each duplicate group; the others go to "
                   "rejects.txt as duplicate_of PATH")
    add_field(p, "--near", L, type=int, metavar="BITS",
              help="dhash bits within which two images are duplicates (-1: exact only)")


def _add_tree(p):
    """Which files under ROOT are images of which class, and how their paths are written."""
    from mlimages.label import NESTED_MODES, LabelOptions as L
    add_field(p, "--extensions", L, as_flag=_comma_extensions,
              help="comma-separated image file extensions")
    add_field(p, "--follow-links", L, action="store_true",
              help="follow symlinked folders (each real folder is walked once)")
    add_field(p, "--nested", L, choices=NESTED_MODES,
              help="ROOT/a/b/x.jpg: class 'a' (flatten) or class 'a/b' (split)")
    add_field(p, "--loose-class", L, metavar="NAME",
              help="images lying directly in ROOT form a class of this name")
    add_field(p, "--keep-empty", L, action="store_true",
              help="give an index to class folders without any usable image")
    add_field(p, "--label", L, type=int, metavar="N",
              help="give every image under ROOT this one label (label_def.txt untouched)")
    add_field(p, "--append", L, action="store_true",
              help="append to existing list files (and extend label_def.txt)")
    add_field(p, "--path-root", L, metavar="DIR",
              help="write paths relative to DIR instead of ROOT")
    add_field(p, "--workers", L, type=int, help="processes for --verify (default: all cores)")


def _comma_extensions(extensions):
    """(".jpg", ".png") -> "jpg,png": the flag's form of LabelOptions.extensions."""
    return ",".join(e.removeprefix(".") for e in extensions)


def label_options(args):
    """LabelOptions from the parsed arguments; ``--extensions`` "jpg,png" -> (".jpg", ".png")."""
    from mlimages.label import LabelOptions
    extensions = tuple("." + e.removeprefix(".") for e in _names(args.extensions))
    return options_from(args, LabelOptions, extensions=extensions)


def run(args):
    """Label the tree, write the lists and print the summary (and the spaces warning)."""
    from mlimages.label import label_tree, spaces_warning, summary_table
    result = label_tree(args.root, args.out, label_options(args), progress=not args.quiet)
    print(summary_table(result))
    warning = spaces_warning(result)
    if warning:
        print(warning, file=sys.stderr)
    print("wrote " + ", ".join(str(p) for p in result.written))
    if result.removed:
        print("removed " + ", ".join(str(p) for p in result.removed)
              + " (left by an earlier run; no longer true of these lists)")
    return 0
