"""What :func:`mlimages.export.run.export` takes, its fixed choices and its errors (no Chainer,
NumPy or ONNX import: the CLI reads the defaults here)."""

import dataclasses

from mlimages.errors import MlimagesError

#: ``--format`` choices.
FORMATS = ("onnx",)
#: The ONNX opset written: the highest Chainer 7's onnx_chainer converts to.
OPSET = 11
#: The self-check: this many images, probabilities within TOLERANCE of Chainer's, same top-1.
CHECK_IMAGES = 8
TOLERANCE = 1e-4
#: The files written beside the model: the class names and what a deployer needs to know.
LABEL_DEF = "label_def.txt"
INFO = "model.json"
#: The graph's input and output names.
INPUT, OUTPUT = "image", "prob"


class ExportError(MlimagesError, ValueError):
    """The export cannot run as asked: a bad option, a missing ONNX package, an unfit --out."""


class ExportCheckFailed(MlimagesError, RuntimeError):
    """The exported graph does not give the run's probabilities (beyond TOLERANCE, or another
    top-1 class); nothing is written."""


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """Options of :func:`mlimages.export.run.export`; the names are those of the CLI flags.

    Attributes:
        model: None (the best model when the run kept one, else the last), "best", "last" or
            the path of a model file of the run.
        format: one of :data:`FORMATS`.
        out: the model file to write; ``label_def.txt`` and ``model.json`` go beside it.
    """

    model: "str | None" = None
    format: str = "onnx"
    out: str = "model.onnx"

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ExportError(f"format={self.format!r}: choose one of {', '.join(FORMATS)}")
