"""``mlimages export``: a run's model for runtimes without Chainer (ONNX).

    options.py  ExportOptions, FORMATS, OPSET, the check's size and tolerance, the errors
                (no Chainer or ONNX import: the CLI reads the defaults)
    graph.py    the onnx/onnx_chainer/onnxruntime imports (onnx pinned to 1.18.0); the
                network wrapped as deployed (mean, 1/255, softmax), traced, cleaned
    check.py    onnxruntime against Chainer on 8 images of the run's val list (or generated)
    run.py      export(): load, trace, check, write model.onnx + label_def.txt + model.json

Needs the ``[onnx]`` extra (``pip install 'mlimages[onnx]'``); importing this package
imports only :mod:`.options`.
"""

from mlimages.export.options import (ExportCheckFailed, ExportError,  # noqa: F401
                                     ExportOptions)

__all__ = ["ExportCheckFailed", "ExportError", "ExportOptions"]
