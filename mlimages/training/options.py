"""What a training run is made of: its options, checked when built (no Chainer import).

:class:`TrainOptions` is the run (saved as ``args.json``; ``--resume`` reads it back) and
:class:`FinetuneOptions` its start from trained weights. The CLI reads every ``train`` flag's
default from these dataclasses, so each default is written here and nowhere else.
"""

import dataclasses
import numbers

from mlimages.defaults import ARCH_NAMES, DEFAULT_ARCH, RESIZE_MODES
from mlimages.errors import MlimagesError


class FinetuneError(MlimagesError, ValueError):
    """Weights that cannot be read or applied, or layer names that do not exist."""


class TrainError(MlimagesError, ValueError):
    """Inputs or settings that cannot start (or resume) a run; the message says the fix."""


class RunDirError(TrainError):
    """A folder that is not a (complete) ``mlimages train`` output folder; names what is missing
    (defined here, with the other errors, so that every module of a run folder can raise it)."""


#: ``--best`` choices: the validation figure that picks ``model_best.npz``, its key in the
#: log, and whether lower or higher is better.
BEST_METRICS = {"val_loss": ("validation/main/loss", "lower"),
                "val_acc": ("validation/main/accuracy", "higher")}


@dataclasses.dataclass(frozen=True)
class FinetuneOptions:
    """How to start from trained weights.

    Attributes:
        init_model: a ``model.npz`` (mlimages/Chainer) or ``.caffemodel`` to start from.
        freeze: layer names that get no updates (e.g. ("conv1", ..., "conv5")).
        freeze_until: freeze every layer from the input up to and including this one.
        pretrained_lr_scale: learning-rate factor for loaded layers that are not frozen
            (1.0: same rate as the fresh layers).
    """

    init_model: "str | None" = None
    freeze: tuple = ()
    freeze_until: "str | None" = None
    pretrained_lr_scale: float = 1.0

    def __post_init__(self):
        if not 0 <= self.pretrained_lr_scale <= 1:
            raise FinetuneError(f"pretrained_lr_scale={self.pretrained_lr_scale}: give a "
                                "factor in [0, 1] (0.1 is common)")
        object.__setattr__(self, "freeze", tuple(self.freeze))


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """Everything a run is made of (saved as ``args.json``; ``resume`` reads it back).

    Attributes:
        train, val: list files (``path label``); val may be None (no evaluation).
        root: folder the list paths are relative to.  mean: ``mean.npy`` (3, H, W) RGB, or
            the folder of ``mlimages mean --out DIR``.
        label_def: class names; default ``label_def.txt`` beside the train list.
        out: output folder.  arch: a name in ``mlimages.models.ARCHS``.
        epoch, batchsize, val_batchsize: run length and batch sizes.
        crop: input side; default the architecture's ``insize``.
        size, resize: the side images are brought to before cropping, and how; None: from
            the mean's ``.json`` (:mod:`mlimages.training.imagesize`); a run's ``args.json``
            records them as found.
        lr, momentum, weight_decay: MomentumSGD and its WeightDecay hook.
        lr_decay, lr_decay_every: lr *= lr_decay every lr_decay_every epochs.
        log_interval: iterations between log lines (there is also one per epoch).
        snapshot_interval: iterations between snapshots (there is also one per epoch).
        keep: snapshots of each kind kept (the latest K).
        gpu: CUDA device, or -1 for the CPU.  seed: reproducible run when set.
        finetune: FinetuneOptions.
        cache: folder for the loaders' memory-mapped caches of resized images
            (:mod:`mlimages.loader.cache`): the first epoch decodes and stores every image, later
            epochs and later runs only crop, flip and subtract. None: decode every epoch.
        normalize_on_device: the loaders hand out the uint8 crops and the mean is subtracted
            and the scale applied on the device (the loader's ``normalize="device"``): a
            quarter of the bytes to a GPU, the same numbers.
        max_missing: the fraction of a list that may be missing before the run starts
            (:mod:`mlimages.training.preflight`); more is an error, fewer a warning.
        rewrite_prefix: (OLD, NEW) pairs: a listed path under the folder OLD is read under
            NEW instead (lists made on another machine); the first rule that matches wins.
        best: the validation figure (a key of :data:`BEST_METRICS`) whose every improvement
            is kept as ``model_best.npz``; None (or no ``val`` list): no best model.
        patience: stop after this many epochs without an improvement of ``best``; None: off.
    """

    train: str
    val: "str | None" = None
    root: str = "."
    mean: str = "mean.npy"
    label_def: "str | None" = None
    out: str = "result"
    arch: str = DEFAULT_ARCH
    epoch: int = 10
    batchsize: int = 32
    val_batchsize: int = 32
    crop: "int | None" = None
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0005
    lr_decay: float = 0.97
    lr_decay_every: int = 1
    log_interval: int = 100
    snapshot_interval: int = 1000
    keep: int = 3
    gpu: int = -1
    seed: "int | None" = None
    finetune: FinetuneOptions = FinetuneOptions()
    cache: "str | None" = None
    normalize_on_device: bool = False
    size: "int | None" = None
    resize: "str | None" = None
    max_missing: float = 0.05
    rewrite_prefix: tuple = ()
    best: "str | None" = "val_loss"
    patience: "int | None" = None

    def __post_init__(self):
        if self.arch not in ARCH_NAMES:
            raise TrainError(f"arch={self.arch!r}: choose one of {', '.join(ARCH_NAMES)}")
        positive = ("epoch", "batchsize", "val_batchsize", "log_interval",
                    "snapshot_interval", "keep", "lr_decay_every")
        optional = tuple(n for n in ("crop", "size") if getattr(self, n) is not None)
        for name in positive + optional:
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise TrainError(f"{name}={value!r}: must be an integer of at least 1")
        self._check_inputs_options()
        if not (self.lr > 0 and 0 <= self.momentum < 1 and self.weight_decay >= 0
                and 0 < self.lr_decay <= 1):
            raise TrainError(f"lr={self.lr}, momentum={self.momentum}, weight_decay="
                             f"{self.weight_decay}, lr_decay={self.lr_decay}: need lr > 0, "
                             "0 <= momentum < 1, weight_decay >= 0, 0 < lr_decay <= 1")
        self._check_best()
        if isinstance(self.finetune, dict):
            object.__setattr__(self, "finetune", FinetuneOptions(**self.finetune))

    def _check_inputs_options(self):
        """resize, max_missing and rewrite_prefix (a JSON list of pairs becomes a tuple)."""
        if self.resize is not None and self.resize not in RESIZE_MODES:
            raise TrainError(f"resize={self.resize!r}: choose one of {', '.join(RESIZE_MODES)}")
        if isinstance(self.max_missing, bool) or not isinstance(self.max_missing, numbers.Real) \
                or not 0 <= self.max_missing <= 1:
            raise TrainError(f"max_missing={self.max_missing!r}: a fraction in [0, 1] of a list "
                             "(0.05: up to 5 % of the listed images may be missing)")
        rules = self.rewrite_prefix
        if isinstance(rules, str) or not all(
                isinstance(r, (list, tuple)) and len(r) == 2 and r[0]
                and all(isinstance(p, str) for p in r) for r in rules):
            raise TrainError(f"rewrite_prefix={rules!r}: expected (OLD, NEW) pairs of "
                             "folders, OLD not empty (the flag: --rewrite-prefix OLD=NEW)")
        object.__setattr__(self, "rewrite_prefix", tuple(tuple(r) for r in rules))

    def _check_best(self):
        if self.best is not None and self.best not in BEST_METRICS:
            raise TrainError(f"best={self.best!r}: choose one of {', '.join(BEST_METRICS)}")
        if self.patience is not None and (not _is_int(self.patience) or self.patience < 1):
            raise TrainError(f"patience={self.patience!r}: must be an integer of at least 1 "
                             "(epochs without improvement), or None for no early stop")

    def to_json(self):
        return dataclasses.asdict(self)
