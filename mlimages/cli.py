"""The command line: the only place that knows about flags.

Each subcommand is a pair ``_add_<name>(subparsers)`` / ``_run_<name>(args)``:
parse, make one library call, print its report.  Library errors (the
``*Error`` types of each stage) are printed as one line, exit status 2.
"""

import argparse
import logging
import sys

from mlimages import __version__


class _Formatter(argparse.ArgumentDefaultsHelpFormatter,
                 argparse.RawDescriptionHelpFormatter):
    """Show defaults and keep the description's line breaks."""


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


# --------------------------------------------------------------------- label
def _add_label(sub):
    from mlimages.label import IMAGE_EXTENSIONS
    p = sub.add_parser(
        "label", formatter_class=_Formatter,
        help="build 'path label' list files and label_def.txt from a class-per-folder tree",
        description="Each immediate subfolder of ROOT is a class; class indices follow the\n"
                    "sorted folder names (torchvision ImageFolder / Keras order).\n"
                    "Writes OUT/train.txt (+ val.txt, test.txt), OUT/label_def.txt and,\n"
                    "when anything was rejected, OUT/rejects.txt.")
    p.add_argument("root", help="image folder: one subfolder per class")
    p.add_argument("--out", required=True, help="folder for the list files")
    p.add_argument("--val", type=_fraction, default=0.0,
                   help="fraction of each class for val.txt (stratified)")
    p.add_argument("--test", type=_fraction, default=0.0,
                   help="fraction of each class for test.txt (stratified)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and shuffle")
    p.add_argument("--shuffle", action="store_true",
                   help="shuffle the lines of each list (default: sorted by class, path)")
    p.add_argument("--verify", action="store_true",
                   help="decode every image in parallel; unreadable ones go to rejects.txt")
    p.add_argument("--extensions", default=",".join(e[1:] for e in IMAGE_EXTENSIONS),
                   help="comma-separated image file extensions")
    p.add_argument("--follow-links", action="store_true",
                   help="follow symlinked folders (each real folder is walked once)")
    p.add_argument("--nested", choices=("flatten", "split"), default="flatten",
                   help="ROOT/a/b/x.jpg: class 'a' (flatten) or class 'a/b' (split)")
    p.add_argument("--loose-class", metavar="NAME",
                   help="images lying directly in ROOT form a class of this name")
    p.add_argument("--keep-empty", action="store_true",
                   help="give an index to class folders without any usable image")
    p.add_argument("--label", type=int, metavar="N",
                   help="give every image under ROOT this one label (label_def.txt untouched)")
    p.add_argument("--append", action="store_true",
                   help="append to existing list files (and extend label_def.txt)")
    p.add_argument("--path-root", metavar="DIR",
                   help="write paths relative to DIR instead of ROOT")
    p.add_argument("--workers", type=int, help="processes for --verify (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_label(args):
    from mlimages.label import LabelOptions, label_tree, spaces_warning, summary_table
    opts = LabelOptions(
        val=args.val, test=args.test, seed=args.seed, shuffle=args.shuffle,
        verify=args.verify, extensions=tuple(e.strip() for e in args.extensions.split(",") if e.strip()),
        follow_links=args.follow_links, nested=args.nested, loose_class=args.loose_class,
        label=args.label, append=args.append, keep_empty=args.keep_empty,
        path_root=args.path_root, workers=args.workers)
    result = label_tree(args.root, args.out, opts, progress=not args.quiet)
    print(summary_table(result))
    warning = spaces_warning(result)
    if warning:
        print(warning, file=sys.stderr)
    print("wrote " + ", ".join(str(p) for p in result.written))
    return 0


# ---------------------------------------------------------------------- mean
def _add_mean(sub):
    from mlimages.mean import DEFAULT_RESIZE, DEFAULT_SIZE
    p = sub.add_parser(
        "mean", formatter_class=_Formatter,
        help="compute the mean image of a list (.npy for training, .png, .json)",
        description="Brings every listed image to SIZE x SIZE the way training does and\n"
                    "averages them on all cores. --out mean.png writes mean.png, mean.npy\n"
                    "(float32 (3, H, W) RGB, Chainer's --mean format) and mean.json; beside\n"
                    "the list it writes LIST_used_in_mean.txt (the images summed) and,\n"
                    "when an image was unreadable, LIST_rejects_in_mean.txt.")
    p.add_argument("list", help="'path label' list file, e.g. lists/train.txt")
    p.add_argument("--root", default=".", help="folder the listed paths are relative to")
    p.add_argument("--out", default="mean.png",
                   help="output name; .png, .npy and .json are written with its stem")
    p.add_argument("--size", type=int, default=DEFAULT_SIZE,
                   help="images become SIZE x SIZE (must match training)")
    p.add_argument("--resize", choices=("downscale", "crop", "squash"), default=DEFAULT_RESIZE,
                   help="how images are brought to SIZE (must match training)")
    p.add_argument("--grayscale", action="store_true", help="a one-channel (1, H, W) mean")
    p.add_argument("--workers", type=int, help="processes (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_mean(args):
    from mlimages.mean import MeanOptions, mean_image, report
    opts = MeanOptions(size=args.size, resize=args.resize, grayscale=args.grayscale,
                       workers=args.workers)
    result = mean_image(args.list, args.root, args.out, opts, progress=not args.quiet)
    print(report(result))
    print("wrote " + ", ".join(str(p) for p in result.written))
    return 0


# ---------------------------------------------------------------------- demo
def _add_demo(sub):
    p = sub.add_parser("demo", formatter_class=_Formatter,
                       help="run the pipeline on a small generated dataset")
    p.add_argument("--out", default="demo-output", help="folder for everything the demo makes")
    p.add_argument("--quick", action="store_true", help="smallest size, for CI")


def _run_demo(args):
    from mlimages.demo import run_demo
    return run_demo(args.out, quick=args.quick)


COMMANDS = {
    "label": (_add_label, _run_label),
    "mean": (_add_mean, _run_mean),
    "demo": (_add_demo, _run_demo),
}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mlimages", formatter_class=_Formatter,
        description="Image dataset preparation and CNN training: "
                    "gather -> label -> mean -> train.")
    parser.add_argument("--version", action="version", version=f"mlimages {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def _library_errors():
    """The error types that are the user's to fix: printed as one line."""
    from mlimages.image import ImageError
    from mlimages.label import LabelError
    from mlimages.listfile import ListFileError
    from mlimages.mean import MeanError
    return (ImageError, LabelError, ListFileError, MeanError, FileNotFoundError)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command][1](args) or 0
    except _library_errors() as e:
        print(f"mlimages {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mlimages {args.command}: interrupted", file=sys.stderr)
        return 130
