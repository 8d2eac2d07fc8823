"""What :func:`mlimages.evaluate.run.evaluate` takes, its choices and its error type (no Chainer
or NumPy import: the CLI reads the defaults here)."""

import dataclasses

from mlimages.errors import MlimagesError

#: Test-time augmentation: the views of each image whose probabilities are averaged.
TTA_MODES = ("none", "flip", "10crop")
#: ``--model``: these names, or the path of a weights file.
MODEL_CHOICES = ("best", "last")


class EvalError(MlimagesError, ValueError):
    """The evaluation cannot run as asked: a bad option, a list that does not fit the run,
    no readable image, a missing ``--model`` file."""


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """Options of :func:`mlimages.evaluate.run.evaluate`; the names are those of the CLI flags.

    Attributes:
        root: folder the list's paths are relative to; None: the run's own ``--root``
            (``args.json``).
        model: None (the best model when the run kept one, else the last), "best", "last"
            (the model the run folder names as current) or the path of a model file.
        tta: one of ``TTA_MODES``.
        batchsize: network inputs per forward pass (an image is 2 of them with ``flip``, 10
            with ``10crop``).
        gpu: CUDA device, or -1 for the CPU.
        out: folder for the report; None: ``RESULT/eval-<list stem>``.
    """

    root: "str | None" = None
    model: "str | None" = None
    tta: str = "none"
    batchsize: int = 32
    gpu: int = -1
    out: "str | None" = None

    def __post_init__(self):
        if self.tta not in TTA_MODES:
            raise EvalError(f"tta={self.tta!r}: choose one of {', '.join(TTA_MODES)}")
        if isinstance(self.batchsize, bool) or not isinstance(self.batchsize, int) \
                or self.batchsize < 1:
            raise EvalError(f"batchsize={self.batchsize!r}: must be an integer of at least 1")
