"""``mlimages predict``, ``inspect``, ``info`` and ``demo``: the commands around the pipeline.

Each command is a pair ``add_<name>(parser)``, ``run_<name>(args)``. Their parsers import no
stage: predict's and inspect's would import Chainer, demo's NumPy and Pillow, for one default
each. So those three defaults are literals, written here and in the signature each feeds
(a test in ``tests/cli`` keeps them equal). Predict's ``--model`` and ``--tta`` come from
:mod:`mlimages.evaluate.options`, which imports neither Chainer nor NumPy.
"""

PREDICT_HELP = "top-k classes of images, folders and lists, with a `mlimages train` output folder"
INSPECT_HELP = "layer-by-layer sizes of a network for an input size"
INFO_HELP = "versions, BLAS kernel, GPU/CUDA/cuDNN, Pillow JPEG, cores; warnings"
DEMO_HELP = "run the pipeline on a small generated dataset"

#: The defaults of :func:`mlimages.predict.predict`'s ``top``,
#: :func:`mlimages.models.sizes.inspect_size`'s ``n_classes`` and
#: :func:`mlimages.demo.run_demo`'s ``out``.
TOP = 5
CLASSES = 1000
DEMO_OUT = "demo-output"


# ------------------------------------------------------------------- predict
def add_predict(p):
    """Add predict's arguments to the subparser ``p`` (``--model`` and ``--tta`` as evaluate's,
    from :class:`mlimages.evaluate.options.EvalOptions`, which imports no Chainer)."""
    from mlimages.cli._args import add_field
    from mlimages.evaluate.options import EvalOptions, TTA_MODES
    p.description = ("Loads RESULT_DIR (the weights, label_def.txt, mean.npy,\n"
                     "args.json) and classifies each image, preprocessed as in\n"
                     "evaluation. INPUTS are image files, folders (searched\n"
                     "recursively, in sorted order) and list files ('path label'\n"
                     "lines, relative to --root: their accuracy is printed too),\n"
                     "in any mix. Unreadable images are reported, not fatal.")
    p.add_argument("result_dir", help="the --out folder of `mlimages train`")
    p.add_argument("images", nargs="+", metavar="INPUT",
                   help="image files, folders and list files")
    p.add_argument("--root", help="folder the paths of list files are relative to "
                                  "(default: the run's --root, from args.json)")
    p.add_argument("--top", type=int, default=TOP, help="classes shown per image")
    add_field(p, "--model", EvalOptions, metavar="best|last|PATH",
              help="which model: best (model_best.npz), last (the last one written: "
                   "model.npz, or the newest model_iter_N.npz of a stopped run), or a model "
                   "file of this run's network, e.g. RESULT_DIR/model_iter_N.npz (default: "
                   "best if the run kept one, else last)")
    add_field(p, "--tta", EvalOptions, choices=TTA_MODES,
              help="average the probabilities of the centre crop and its mirror (flip), or "
                   "of the 4 corners and centre, each mirrored (10crop)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--csv", metavar="FILE", help="also write one row per image to FILE")


def run_predict(args):
    """Print the top classes of each image (and each list's accuracy); exit status 1 if an
    image could not be read."""
    import json
    import sys
    from mlimages.predict import (format_predictions, format_scores, list_scores, predict,
                                  to_json, write_csv)
    predictions = predict(args.result_dir, args.images, top=args.top, model=args.model,
                          tta=args.tta, root=args.root)
    if args.csv:
        write_csv(args.csv, predictions)
    scores = format_scores(list_scores(predictions))
    if args.json:
        print(json.dumps(to_json(predictions), indent=2))
        if scores:
            print(scores, file=sys.stderr)
    else:
        print(format_predictions(predictions))
        if scores:
            print(scores)
    return 1 if any(p.error for p in predictions) else 0


# ------------------------------------------------------------------- inspect
def add_inspect(p):
    """Add inspect's arguments to the subparser ``p``."""
    from mlimages.defaults import ARCH_NAMES, DEFAULT_ARCH
    p.description = ("For every convolution and pooling layer: kernel F,\n"
                     "stride S, pad P, input N and output (N + 2P - F)/S + 1,\n"
                     "flagging divisions that are not exact; the flattened\n"
                     "size reaching the first fully connected layer; and, for a\n"
                     "size that does not fit, the nearest sizes that do.")
    p.add_argument("--arch", choices=ARCH_NAMES, default=DEFAULT_ARCH, help="network")
    p.add_argument("--insize", type=int, help="input side in pixels (default: the network's)")
    p.add_argument("--classes", type=int, default=CLASSES, help="outputs of the last layer")


def run_inspect(args):
    """Print the layer table; exit status 1 if the input size does not fit."""
    from mlimages.models.sizes import format_report, inspect_size
    report = inspect_size(args.arch, args.insize, n_classes=args.classes)
    print(format_report(report))
    return 0 if report.fits else 1


# ---------------------------------------------------------------------- info
def add_info(p):
    """Add info's description (it takes no arguments)."""
    p.description = ("What to paste into a bug report, and the first thing to run\n"
                     "on a new machine: versions and known-slow set-ups.")


def run_info(args):
    """Print the versions and warnings."""
    from mlimages.info import collect, format_info
    print(format_info(collect()))
    return 0


# ---------------------------------------------------------------------- demo
def add_demo(p):
    """Add demo's arguments to the subparser ``p``."""
    p.add_argument("--out", default=DEMO_OUT, help="folder for everything the demo makes")
    p.add_argument("--quick", action="store_true", help="smallest size, for CI")


def run_demo(args, run_command):
    """Run the demo, each of its steps through ``run_command`` (the CLI's ``main``).

    The CLI hands its entry point in (see ``mlimages.cli.main``): the demo shows and runs the
    real commands, and neither this module nor the demo imports the CLI package.
    """
    from mlimages.demo import run_demo as demo
    return demo(run_command, args.out, quick=args.quick)
