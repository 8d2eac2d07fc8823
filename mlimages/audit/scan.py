"""Decode every image once on a process pool and measure it (``hashes``): one :class:`Scanned`
per path, in the order given; an unreadable file is a Scanned whose ``error`` says why.

Images are scanned in batches of BATCH: each is decoded and its working copy kept
(``hashes.copy_of``), then the batch's numbers come from a few NumPy operations on all of
them (``hashes.measure``). The files' SHA-1 is taken afterwards, only where two images have
the same pixels and size (:func:`with_file_hashes`): files with the same bytes always do.
"""

import hashlib
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple

from tqdm import tqdm

from mlimages._fs import pool_context
from mlimages.audit import hashes
from mlimages.audit.options import WORK_SIZE
from mlimages.image import ImageError, ImageSpec, open_sized

#: One draft-mode decode: libjpeg at the smallest scale that still covers WORK_SIZE in both
#: axes, RGB, EXIF-oriented, kept at that size (``hashes.working_copy`` samples it).
DECODE_SPEC = ImageSpec(size=WORK_SIZE, resize="squash")
#: Images per process at least: starting a worker (a fresh interpreter importing NumPy and
#: Pillow) costs about as much as scanning a few hundred images.
PER_WORKER = 500
#: Images measured together (and handed to a worker at a time): enough that the NumPy calls
#: per batch cost little per image, few enough that the work spreads evenly over the workers
#: (4 to 32 measured alike: benchmarks/RESULTS.md).
BATCH = 32


class Scanned(NamedTuple):
    """What one file gave: its size and bytes, hashes, and the quality numbers.

    ``width``, ``height`` are the full size as shown (after EXIF orientation); ``sha1`` of the
    file's bytes where :func:`with_file_hashes` took it (else ""); ``pixels`` the
    :func:`hashes.pixel_hash`; ``dhash``/``mirror`` 64-bit ints;
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


def _decode(path):
    """(Scanned with the file's fields, its ``hashes.Copy``), or (Scanned with ``error``, None)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return Scanned(path, error=f"unreadable: {e.strerror or e}"), None
    try:
        im, info = open_sized(data, DECODE_SPEC, name=path, keep_size=True)
    except ImageError as e:
        return Scanned(path, nbytes=len(data), error=f"{e.reason}: {e.detail}".rstrip(": ")), None
    return Scanned(path, info.size[0], info.size[1], len(data)), hashes.copy_of(im)


def scan_batch(paths):
    """Read, decode and measure a few files; never raises for a bad image (``error`` is set).

    Returns:
        list of Scanned, in the order of ``paths``, without ``sha1`` (see :func:`scan_files`).
    """
    decoded = [_decode(str(p)) for p in paths]
    good = [k for k, (_, copy) in enumerate(decoded) if copy is not None]
    out = [head for head, _ in decoded]
    if good:
        for k, numbers in zip(good, hashes.measure([decoded[k][1] for k in good])):
            out[k] = Scanned(*out[k][:5], *numbers)   # the fields after ``sha1``, in order
    return out


def scan_one(path):
    """:func:`scan_batch` of one file."""
    return scan_batch([path])[0]


def scan_files(paths, workers=None, progress=True):
    """:func:`scan_batch` every BATCH paths, on a process pool, then :func:`with_file_hashes`.

    Args:
        paths: image files (str or Path).
        workers (int): processes (default: every core), at most one per PER_WORKER images;
            1 scans in this process.

    Returns:
        list of Scanned, in the order of ``paths``.
    """
    paths = [str(p) for p in paths]
    workers = min(workers or os.cpu_count() or 1, max(1, len(paths) // PER_WORKER))
    batches = [paths[k:k + BATCH] for k in range(0, len(paths), BATCH)]
    out = []
    with tqdm(total=len(paths), unit="img", desc="audit", disable=not progress,
              leave=False) as bar:
        for scanned in _scanned_batches(batches, workers):
            out += scanned
            bar.update(len(scanned))
    return with_file_hashes(out)


def with_file_hashes(scanned):
    """``scanned`` with ``sha1`` set on every good record whose ``pixels`` hash and size
    another good record shares (those files are read again here, each path once); the
    others keep "".

    Files with the same bytes have the same size and decode to the same pixels, so every
    same-bytes pair is among them: hashing only these (usually a few) finds every one, and
    the scan of the rest does not hash its bytes at all. A file that cannot be read again
    keeps "" (no bytes match).
    """
    shared = Counter((s.pixels, s.nbytes) for s in scanned if not s.error)
    digests = {}
    out = []
    for s in scanned:
        if not s.error and shared[s.pixels, s.nbytes] > 1:
            if s.path not in digests:
                digests[s.path] = _file_sha1(s.path)
            s = s._replace(sha1=digests[s.path])
        out.append(s)
    return out


def _file_sha1(path):
    """SHA-1 (hex) of the file's bytes, or "" if it cannot be read."""
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha1").hexdigest()
    except OSError:
        return ""


def _scanned_batches(batches, workers):
    """:func:`scan_batch` of each batch, in order: here with one worker, else on a pool."""
    if workers == 1:
        yield from map(scan_batch, batches)
        return
    with scan_pool(workers) as pool:
        yield from pool.map(scan_batch, batches)


def scan_pool(workers):
    """The process pool the scan runs on: ``workers`` processes whose allocator keeps freed
    memory (:func:`keep_freed_memory`: each batch's NumPy temporaries reuse the same pages)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(),
                               initializer=keep_freed_memory)


# glibc's mallopt parameters (malloc.h) and the values a scan worker gets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_BELOW = 16 << 20
_TRIM_ABOVE = 64 << 20


def keep_freed_memory():
    """Have this process's C allocator keep freed memory for its next allocations: blocks
    under 16 MiB come from the heap, and up to 64 MiB of free heap stay mapped. Returns
    whether it could: glibc only (elsewhere, or where glibc refuses the values, nothing
    changes).

    The scan's workers allocate the same few MB of NumPy temporaries batch after batch; by
    default glibc hands them back to the OS as they are freed, and every batch pays a page
    fault per 4 KiB page again, which cost more than the arithmetic (benchmarks/RESULTS.md).
    Meant as a pool's ``initializer``, never for a caller's process.
    """
    import ctypes
    if not glibc():                 # the constants above are glibc's
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_BELOW)
                and mallopt(_M_TRIM_THRESHOLD, _TRIM_ABOVE))


def glibc():
    """Whether this process runs on glibc (where :func:`keep_freed_memory` applies)."""
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError, AttributeError):
        return False
