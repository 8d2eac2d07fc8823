"""What :func:`mlimages.mean.compute_mean` takes, and the stage's error type."""

import dataclasses

from mlimages.defaults import DEFAULT_RESIZE, DEFAULT_SIZE
from mlimages.errors import MlimagesError


class MeanError(MlimagesError, ValueError):
    """The mean cannot be computed as asked (empty list, nothing readable, bad options), or a
    mean file cannot be read."""


@dataclasses.dataclass(frozen=True)
class MeanOptions:
    """Options of :func:`compute_mean`; the names are those of the CLI flags.

    Attributes:
        size: every image becomes size x size before summing (the training size).
        resize: "downscale", "crop" or "squash" (see :class:`mlimages.image.ImageSpec`).
        grayscale: a (1, H, W) mean of mode-L images instead of (3, H, W) RGB.
        workers: processes (default: every core).
        chunk: images per task sent to a worker (default: picked from the list length).
    """

    size: int = DEFAULT_SIZE
    resize: str = DEFAULT_RESIZE
    grayscale: bool = False
    workers: "int | None" = None
    chunk: "int | None" = None

    def spec(self):
        """The :class:`ImageSpec` every image is read with."""
        from mlimages.image import ImageSpec  # here: building the CLI's parser needs no Pillow
        return ImageSpec(size=self.size, resize=self.resize, grayscale=self.grayscale)
