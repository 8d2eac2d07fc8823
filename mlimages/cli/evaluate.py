"""``mlimages evaluate``: its flags (defaults from EvalOptions) and its run.

Building the parser imports :mod:`mlimages.evaluate.options` only, not Chainer or NumPy.
"""

from mlimages.cli._args import add_field, options_from

HELP = "per-class figures, confusion matrix and worst mistakes of a run on a labelled list"

DESCRIPTION = """\
Classifies every image of LIST ('path label') with the model of RESULT
(the --out folder of `mlimages train`), each image prepared as in
validation (or averaged over --tta views), and prints the accuracy,
top-k accuracy, macro and weighted F1, a per-class table and the most
confused class pairs. Writes report.json, per_class.csv, confusion.csv,
confusion.png, predictions.csv, probs.npy, mistakes.csv and mistakes.png
into --out (default RESULT/eval-<LIST stem>). Unreadable images are
listed and left out of every figure; they do not stop the evaluation."""


def add(p):
    """Add evaluate's arguments to the subparser ``p``."""
    from mlimages.evaluate.options import EvalOptions as E, TTA_MODES
    p.description = DESCRIPTION
    p.add_argument("result", help="the --out folder of `mlimages train`")
    p.add_argument("list", help="'path label' list file, e.g. lists/test.txt")
    add_field(p, "--root", E, help="folder the listed paths are relative to (default: the "
                                   "run's --root, from args.json)")
    add_field(p, "--model", E, metavar="best|last|PATH",
              help="which model: best (model_best.npz), last (the last one written), or a "
                   "model file of this run's network (default: best if the run kept one, "
                   "else last)")
    add_field(p, "--tta", E, choices=TTA_MODES,
              help="test-time augmentation: probabilities averaged over the centre crop and "
                   "its mirror (flip), or the 4 corners and centre, each mirrored (10crop)")
    add_field(p, "--batchsize", E, type=int, help="network inputs per forward pass")
    add_field(p, "--gpu", E, type=int, help="CUDA device, or -1 for the CPU")
    add_field(p, "--out", E, help="folder for the report (default: RESULT/eval-<LIST stem>)")


def run(args):
    """Evaluate, write the report's files and print its summary."""
    from mlimages.evaluate.options import EvalOptions
    from mlimages.evaluate.reports import format_report
    from mlimages.evaluate.run import evaluate
    print(format_report(evaluate(args.result, args.list, options_from(args, EvalOptions))))
    return 0
