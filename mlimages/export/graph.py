"""A trained network as an ONNX graph a deployer can call: raw RGB crops in, probabilities out.

The network is traced by ``onnx_chainer`` (shipped inside Chainer 7) wrapped in
:class:`Deployable`, then cleaned (:func:`clean`): the weights are initializers only (the
exporter also lists each as a graph input, which makes onnxruntime warn and skip constant
folding), the batch dimension is ``N`` (the exporter writes the traced batch size into the
input, the output and the flatten before the first Linear), the mean is named ``mean``.

ONNX version: Chainer 7's exporter imports ``onnx.mapping``, which onnx 1.19 removed. We pin
``onnx==1.18.0`` (the ``[onnx]`` extra) rather than bridge the module: 1.18 is what the
exporter was checked with, and a bridge would have to track onnx's internals.
"""

import sys
import warnings

import numpy

from mlimages._chainer import chainer, F
from mlimages.export.options import INPUT, OPSET, OUTPUT, ExportError
from mlimages.models import cpu

#: The loader's scale (:func:`mlimages.loader.transforms.place`); the self-check compares the
#: graph with the loader's own preprocessing, so a difference would fail every export.
SCALE = numpy.float32(1.0 / 255.0)
#: The batch size traced; any other size in the check shows the batch dimension is free.
TRACE_BATCH = 2
MEAN = "mean"


def onnx_modules():
    """Import ``onnx``, Chainer's ``onnx_chainer`` and ``onnxruntime``; returns the three.

    protobuf's pure-Python implementation is selected if protobuf is not loaded yet, as for
    Chainer's Caffe reader (:mod:`mlimages.training.caffe`), so both work in one process.

    Raises:
        ExportError: a package is missing, or onnx is too new for the exporter (the fix).
    """
    from mlimages.training.caffe import python_protobuf
    try:
        with python_protobuf():
            import onnx
            import onnx_chainer
            import onnxruntime
    except ImportError as e:
        raise ExportError(f"ONNX export needs the onnx extra ({e.name or e} is missing): "
                          "pip install 'mlimages[onnx]' (onnx==1.18.0 and onnxruntime)") from None
    # The module, not the function onnx_chainer's package puts under the same name.
    if not sys.modules["onnx_chainer.export"]._available:  # `from onnx.mapping ...` failed
        raise ExportError(f"onnx {onnx.__version__} lacks onnx.mapping, which Chainer 7's "
                          "exporter imports (onnx >= 1.19 removed it): pip install "
                          "'onnx==1.18.0'")
    return onnx, onnx_chainer, onnxruntime


class Deployable(chainer.Chain):
    """``predictor`` as deployed: float32 (N, 3, crop, crop) RGB in 0..255 in, float32
    (N, classes) probabilities out; the mean crop is subtracted and the result scaled by
    1/255 inside, as the loader prepares a validation crop."""

    def __init__(self, predictor, mean_crop):
        super().__init__()
        with self.init_scope():
            self.predictor = predictor
        self.mean = numpy.ascontiguousarray(mean_crop, numpy.float32)

    def forward(self, x):
        # Chainer's own functions: the exporter converts nodes by Chainer's names, and knows
        # nothing of mlimages.models.cpu's fast ones
        with cpu.chainer_functions():
            return F.softmax(self.predictor((x - self.mean) * SCALE))


def to_onnx(predictor, mean_crop, crop):
    """The cleaned ONNX model (``onnx.ModelProto``) of ``predictor`` with ``mean_crop``.

    Args:
        predictor: the run's network (logits), on the CPU.  mean_crop: float32 (3, crop, crop)
            or (3, 1, 1), RGB 0..255.  crop (int): the input side.
    """
    onnx, onnx_chainer, _ = onnx_modules()
    x = numpy.zeros((TRACE_BATCH, 3, crop, crop), numpy.float32)
    with chainer.using_config("train", False), warnings.catch_warnings():
        # onnx 1.18 deprecates the onnx.mapping tables the exporter reads (hence the pin).
        warnings.simplefilter("ignore", DeprecationWarning)
        model = onnx_chainer.export(Deployable(predictor, mean_crop), x, filename=None,
                                    opset_version=OPSET, input_names=[INPUT],
                                    output_names=[OUTPUT])
    clean(model, TRACE_BATCH)
    onnx.checker.check_model(model)
    return model


def clean(model, batch):
    """Clean the exporter's graph in place (see the module docstring); returns ``model``."""
    graph = model.graph
    weights = {t.name for t in graph.initializer}
    kept = [v for v in graph.input if v.name not in weights]
    del graph.input[:]
    graph.input.extend(kept)
    del graph.value_info[:]          # shapes traced at the traced batch size
    for value in (*graph.input, *graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    _free_batch_in_reshapes(graph, batch)
    _name_mean(graph)
    return model


def _free_batch_in_reshapes(graph, batch):
    """Reshape targets that start with the traced batch size start with 0 (copy the input's
    first dimension) instead."""
    from onnx import numpy_helper
    targets = {node.input[1] for node in graph.node if node.op_type == "Reshape"}
    tensors = [t for t in graph.initializer if t.name in targets]
    tensors += [a.t for n in graph.node if n.op_type == "Constant" and n.output[0] in targets
                for a in n.attribute if a.name == "value"]
    for tensor in tensors:
        shape = numpy_helper.to_array(tensor).copy()
        if shape.ndim == 1 and len(shape) and shape[0] == batch:
            shape[0] = 0
            tensor.CopyFrom(numpy_helper.from_array(shape, tensor.name))


def _name_mean(graph):
    """Call the one initializer that is not a parameter of the network ``mean``."""
    extra = [t for t in graph.initializer if not t.name.startswith("param_")]
    if len(extra) != 1:
        return
    old = extra[0].name
    extra[0].name = MEAN
    for node in graph.node:
        node.input[:] = [MEAN if name == old else name for name in node.input]
