"""Decode every image once on a process pool and measure it (``hashes``): one :class:`Scanned`
per path, in the order given; an unreadable file is a Scanned whose ``error`` says why."""

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple

from tqdm import tqdm

from mlimages._fs import pool_context
from mlimages.audit import hashes
from mlimages.audit.options import WORK_SIZE
from mlimages.image import ImageError, ImageSpec, open_sized

#: One draft-mode decode: libjpeg at the smallest scale that still covers WORK_SIZE in both
#: axes, RGB, EXIF-oriented, kept at that size (``hashes.working_copies`` makes the copies).
DECODE_SPEC = ImageSpec(size=WORK_SIZE, resize="squash")
#: Images per process at least: starting a worker (a fresh interpreter importing NumPy and
#: Pillow) costs about as much as scanning a few hundred images.
PER_WORKER = 500


class Scanned(NamedTuple):
    """What one file gave: its size and bytes, hashes, and the quality numbers.

    ``width``, ``height`` are the full size as shown (after EXIF orientation); ``sha1`` of the
    file's bytes; ``pixels`` the :func:`hashes.pixel_hash`; ``dhash``/``mirror`` 64-bit ints;
    ``entropy``, ``sharpness``, ``colour``, ``tiny`` as in ``hashes``. ``error`` is "" for a good image,
    else the reason (and the other fields are zero).
    """

    path: str
    width: int = 0
    height: int = 0
    nbytes: int = 0
    sha1: str = ""
    pixels: str = ""
    dhash: int = 0
    mirror: int = 0
    entropy: float = 0.0
    sharpness: float = 0.0
    colour: float = 0.0
    tiny: bytes = b""
    error: str = ""


def scan_one(path):
    """Read, decode and measure one file; never raises for a bad image (``error`` is set)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return Scanned(str(path), error=f"unreadable: {e.strerror or e}")
    try:
        im, info = open_sized(data, DECODE_SPEC, name=str(path), keep_size=True)
    except ImageError as e:
        return Scanned(str(path), nbytes=len(data), error=f"{e.reason}: {e.detail}".rstrip(": "))
    return Scanned(str(path), info.size[0], info.size[1], len(data),
                   hashlib.sha1(data).hexdigest(), *hashes.measure(im))


def scan_files(paths, workers=None, progress=True):
    """:func:`scan_one` every path on a process pool.

    Args:
        paths: image files (str or Path).
        workers (int): processes (default: every core), at most one per PER_WORKER images;
            1 scans in this process.

    Returns:
        list of Scanned, in the order of ``paths``.
    """
    paths = [str(p) for p in paths]
    workers = min(workers or os.cpu_count() or 1, max(1, len(paths) // PER_WORKER))
    bar = dict(total=len(paths), unit="img", desc="audit", disable=not progress, leave=False)
    if workers == 1:
        return [scan_one(p) for p in tqdm(paths, **bar)]
    chunk = max(1, min(64, len(paths) // (workers * 8) or 1))
    with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as pool:
        return list(tqdm(pool.map(scan_one, paths, chunksize=chunk), **bar))
