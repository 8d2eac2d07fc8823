"""``mlimages mean``: its flags (defaults from MeanOptions and ``mean_image``) and its run.

Building the parser imports :mod:`mlimages.mean` (and with it NumPy and Pillow), the stage
that the command runs: ``--size`` and ``--resize`` read their defaults from MeanOptions,
``--root`` and ``--out`` from the signature of :func:`mlimages.mean.mean_image`.
"""

from mlimages.cli._args import add_field, options_from, param_default

HELP = "compute the mean image of a list (.npy for training, .png, .json)"

DESCRIPTION = """\
Brings every listed image to SIZE x SIZE the way training does and
averages them on all cores. --out DIR writes DIR/mean.npy (float32
(3, H, W) RGB, Chainer's --mean format), DIR/mean.png and DIR/mean.json
(the statistics, SIZE and --resize: `mlimages train --mean DIR` takes
its image size and resize mode from there). The earlier form, --out
NAME.png (or NAME.npy), still writes NAME.npy, NAME.png and NAME.json.
Beside the list it writes LIST_used_in_mean.txt (the images summed)
and, when an image was unreadable, LIST_rejects_in_mean.txt."""


def add(p):
    """Add mean's arguments to the subparser ``p``."""
    from mlimages.defaults import RESIZE_MODES
    from mlimages.mean import MeanOptions, mean_image
    p.description = DESCRIPTION
    p.add_argument("list", help="'path label' list file, e.g. lists/train.txt")
    p.add_argument("--root", default=param_default(mean_image, "root"),
                   help="folder the listed paths are relative to")
    p.add_argument("--out", metavar="DIR", default=param_default(mean_image, "out"),
                   help="folder for DIR/mean.npy, DIR/mean.png, DIR/mean.json (made if "
                        "missing); a name ending in .png or .npy names the three files "
                        "instead (the earlier form)")
    add_field(p, "--size", MeanOptions, type=int,
              help="images become SIZE x SIZE; recorded in mean.json, where train reads it")
    add_field(p, "--resize", MeanOptions, choices=RESIZE_MODES,
              help="how images are brought to SIZE; recorded in mean.json, where train "
                   "reads it")
    add_field(p, "--grayscale", MeanOptions, action="store_true",
              help="a one-channel (1, H, W) mean")
    add_field(p, "--workers", MeanOptions, type=int, help="processes (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def mean_options(args):
    """MeanOptions from the parsed arguments."""
    from mlimages.mean import MeanOptions
    return options_from(args, MeanOptions)


def run(args):
    """Compute the mean, write its files and print the report."""
    from mlimages.mean import mean_image, report
    result = mean_image(args.list, args.root, args.out, mean_options(args),
                        progress=not args.quiet)
    print(report(result))
    print("wrote " + ", ".join(str(p) for p in result.written))
    return 0
