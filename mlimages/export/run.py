"""``mlimages export``: a run folder's model as ONNX, checked, with what a deployer needs beside it.

::

    OUT.onnx        input "image": float32 (N, 3, crop, crop), RGB, 0..255, the centre crop of
                    the image brought to SIZE x SIZE by the run's resize mode; output "prob":
                    float32 (N, classes), softmax; mean subtracted and 1/255 applied inside
    label_def.txt   the class names, index order (as the run's)
    model.json      classes, crop, size, resize mode, mean handling, input/output, the check
"""

import json
from pathlib import Path
from typing import NamedTuple

from mlimages import listfile
from mlimages._fs import atomic_write_bytes, atomic_write_text, blocking_file
from mlimages.evaluate.model import load_model
from mlimages.export.check import (chainer_probs, compare, mean_crop, onnx_probs, raw_crops,
                                   sample_images)
from mlimages.export.graph import MEAN, onnx_modules, to_onnx
from mlimages.export.options import (CHECK_IMAGES, INFO, INPUT, LABEL_DEF, OPSET, OUTPUT,
                                     ExportError, ExportOptions)
from mlimages.training.rundir import load_options


class Exported(NamedTuple):
    """What :func:`export` wrote: ``model``, ``label_def`` and ``info`` (Paths), ``check``
    (:class:`mlimages.export.check.Check`) and ``weights`` (the run's note on the weights
    file exported)."""

    model: Path
    label_def: Path
    info: Path
    check: object
    weights: str


def export(result, opts=ExportOptions()):
    """Export the model of the run folder ``result``; check it; write it and its two files.

    Returns:
        Exported.

    Raises:
        ExportError: ``opts.out`` cannot be written, or the ONNX packages are missing.
        ExportCheckFailed: onnxruntime's probabilities differ from Chainer's (nothing written).
        mlimages.training.options.RunDirError: ``result`` is not a complete run folder.
    """
    out = Path(opts.out)
    _check_out(out)
    onnx_modules()                   # the missing-package error before any work
    run, network = load_model(result, opts.model)
    data = to_onnx(network, mean_crop(run), run.crop).SerializeToString()
    chws, source = sample_images(run, load_options(result), CHECK_IMAGES)
    check = compare(chainer_probs(network, run, chws),
                    onnx_probs(_session(data), raw_crops(run, chws)), source)
    atomic_write_bytes(out, data)
    label_def = listfile.write_label_def(out.parent / LABEL_DEF, run.names)
    info = out.parent / INFO
    atomic_write_text(info, json.dumps(model_info(run, out, check), indent=2) + "\n")
    return Exported(out, label_def, info, check, run.note)


def _check_out(out):
    if out.is_dir():
        raise ExportError(f"--out {out} is a folder; give the model file, e.g. {out}/model.onnx")
    blocking = blocking_file(out.parent)
    if blocking is not None:
        raise ExportError(f"--out {out}: {blocking} is a file, not a folder; choose another "
                          "--out")


def _session(data):
    _, _, onnxruntime = onnx_modules()
    return onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])


def model_info(run, out, check):
    """The contents of ``model.json``: how to prepare an image and read the output."""
    size = int(run.mean.shape[1])
    return {
        "format": "onnx", "opset": OPSET, "file": out.name, "arch": run.arch,
        "classes": list(run.names), "label_def": LABEL_DEF,
        "size": size, "resize": run.resize, "crop": run.crop,
        "input": {"name": INPUT, "shape": ["N", 3, run.crop, run.crop], "dtype": "float32",
                  "channels": "RGB", "range": [0, 255],
                  "prepare": f"bring the image to {size}x{size} by resize mode "
                             f"'{run.resize}', then take the centre {run.crop}x{run.crop}"},
        "output": {"name": OUTPUT, "shape": ["N", len(run.names)],
                   "meaning": "class probabilities (softmax), index order of classes"},
        "mean": f"inside the graph: the training mean's centre crop (initializer '{MEAN}') "
                "is subtracted, then the result is scaled by 1/255",
        "source": {"run": str(Path(run.out).absolute()), "weights": str(run.model)},
        "check": {"images": check.images, "from": check.source,
                  "max_abs_diff": check.max_diff, "top1_equal": check.top1_equal},
    }
