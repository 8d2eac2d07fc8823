"""``mlimages export``: its flags (defaults from ExportOptions) and its run.

Building the parser imports :mod:`mlimages.export.options` only (no Chainer, NumPy or ONNX).
"""

from mlimages.cli._args import add_field, options_from

HELP = "a run's model as ONNX (runs without Chainer), self-checked with onnxruntime"

DESCRIPTION = """\
Writes the model of RESULT (the --out folder of `mlimages train`) as an
ONNX graph that takes float32 (N, 3, crop, crop) RGB crops in 0..255 and
returns class probabilities (the mean is subtracted and 1/255 applied
inside), and beside it label_def.txt and model.json (classes, crop, size,
resize mode, mean handling). Before writing, runs it in onnxruntime on 8
images of the run's val list (or generated ones) against Chainer: max
|prob difference| <= 1e-4 and the same top-1 class, else it fails.
Needs: pip install 'mlimages[onnx]'."""


def add(p):
    """Add export's arguments to the subparser ``p``."""
    from mlimages.export.options import ExportOptions as E, FORMATS
    p.description = DESCRIPTION
    p.add_argument("result", help="the --out folder of `mlimages train`")
    add_field(p, "--model", E, metavar="best|last|PATH",
              help="which model: best (model_best.npz), last, or a model file of this run "
                   "(default: best if the run kept one, else last)")
    add_field(p, "--format", E, choices=FORMATS, help="the file format")
    add_field(p, "--out", E, metavar="FILE",
              help="the model file; label_def.txt and model.json are written beside it")


def run(args):
    """Export, check and print what was written."""
    from mlimages.export.options import ExportOptions, TOLERANCE
    from mlimages.export.run import export
    done = export(args.result, options_from(args, ExportOptions))
    c = done.check
    print(f"exported {done.weights}")
    print(f"checked on {c.images} images ({c.source}): max |Δprob| {c.max_diff:.2g} "
          f"(<= {TOLERANCE:g}), top-1 {'equal' if c.top1_equal else 'different'}")
    print(f"wrote {done.model}, {done.label_def}, {done.info}")
    return 0
