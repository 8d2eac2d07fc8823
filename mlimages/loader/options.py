"""The options of :class:`mlimages.loader.BatchLoader` beyond its positional arguments."""

import dataclasses
import os

from mlimages.defaults import DEFAULT_RESIZE

NORMALIZE = ("host", "device")


@dataclasses.dataclass(frozen=True)
class LoaderOptions:
    """Options of :class:`BatchLoader` beyond its positional arguments.

    Attributes:
        size: images become size x size before cropping; None: the mean's height, or
            ``DEFAULT_SIZE`` when the mean has no spatial shape.
        resize: "downscale", "crop" or "squash" (see :class:`mlimages.image.ImageSpec`).
        grayscale: one channel; None: follow the mean's channel count.
        shuffle: shuffle each epoch; None: shuffle when training.
        workers: decoding threads (default: every core).
        prefetch: batches kept in flight ahead of the consumer (K); each holds a batch
            buffer (K + 2 buffers: 200 MB at batch 32, crop 227, float32). Cached epochs,
            whose jobs are short, need the depth to keep every worker busy (RESULTS.md).
        item_timeout: seconds one image may take before its worker counts as stalled.
        max_replacements: unreadable replacements in a row before giving up on a sample.
        cache: folder for the memory-mapped cache of resized images (see mlimages.loader.cache).
        processes: worker processes read the images (each driven by a worker thread, writing
            into shared memory; a script needs a ``__main__`` guard: forkserver); False: the
            worker threads read them themselves (benchmarks/RESULTS.md compares them).
        normalize: "host": ``x`` comes float32, mean subtracted and scaled; "device": ``x``
            comes as the uint8 crops (a :class:`RawBatch`) and :func:`converter` subtracts
            the mean and scales on the device it sends them to, with the same result.
    """

    size: "int | None" = None
    resize: str = DEFAULT_RESIZE
    grayscale: "bool | None" = None
    shuffle: "bool | None" = None
    workers: "int | None" = None
    prefetch: int = 8
    item_timeout: float = 60.0
    max_replacements: int = 10
    cache: "str | os.PathLike | None" = None
    processes: bool = True
    normalize: str = "host"


def make_options(options, overrides):
    """``options`` (default: LoaderOptions()) with the fields of ``overrides`` replaced.

    Raises:
        TypeError: an override is not a field; the message lists the fields.
    """
    opts = options or LoaderOptions()
    try:
        return dataclasses.replace(opts, **overrides) if overrides else opts
    except TypeError as ex:
        fields = ", ".join(f.name for f in dataclasses.fields(LoaderOptions))
        raise TypeError(f"{ex}; BatchLoader options are: {fields}") from None
