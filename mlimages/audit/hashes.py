"""The numbers a decoded image gives: its hashes and its quality measures, a batch at a time.

:func:`working_copy` takes, from the decoded RGB image, a WORK_SIZE x WORK_SIZE sample (see
``options``); :func:`copy_of` keeps what the numbers need of it as bytes (:class:`Copy`: its
grey, PIXEL_SIZE x PIXEL_SIZE colour samples, the grey histogram), and :func:`measure` turns a
list of them into the numbers, in a few NumPy operations for the whole batch (per-image calls
cost more than the arithmetic). The other functions take arrays with a leading batch axis
(or a single image's values, where the docstring says so) and return plain values. Sums are
taken with ``reduceat``/``sum``, never a matrix product: OpenBLAS would start a
thread pool inside every worker of the scan's process pool (3x slower on 2 shared cores).

The perceptual hash follows gather's dhash rule (``mlimages.gather.validate.dhash_bits``):
64 bits, bit ``r * 8 + c`` (from the most significant) set where cell (r, c) of a 9x8 grey
thumbnail is brighter than its right neighbour. Gather computes it from a file; here the
thumbnail comes from the grey copy already decoded, so an image is decoded once (the same bits
from the same thumbnail: tests/audit/test_hashes.py).
"""

import hashlib
import math
from typing import NamedTuple

import numpy
from PIL import Image

from mlimages.audit.options import PIXEL_SIZE, WORK_SIZE

_AREA = WORK_SIZE * WORK_SIZE
# c * log2(c) for every count a WORK_SIZE x WORK_SIZE histogram bin can hold (entropy).
_C_LOG_C = numpy.array([0.0] + [c * math.log2(c) for c in range(1, _AREA + 1)])


class Copy(NamedTuple):
    """What :func:`measure` needs of one image's working copy.

    ``grey``: WORK_SIZE x WORK_SIZE bytes, mode "L" (Pillow's ITU-R 601 luma); ``colours``:
    PIXEL_SIZE x PIXEL_SIZE RGB bytes, the sample's pixel nearest the centre of each of a
    PIXEL_SIZE x PIXEL_SIZE grid of cells; ``histogram``: the 256 counts of ``grey``.
    """

    grey: bytes
    colours: bytes
    histogram: list


def working_copy(rgb):
    """The RGB WORK_SIZE x WORK_SIZE sample every number is taken on.

    The decoded image (a JPEG's draft decode already averages blocks of 2x2 to 8x8 pixels) is
    box-reduced by the largest integer factor that keeps both sides >= WORK_SIZE, then
    sampled, nearest neighbour, to WORK_SIZE x WORK_SIZE (squashed): one cheap pass, no
    filtering beyond the decoder's and the reduce's.
    """
    factor = min(rgb.width // WORK_SIZE, rgb.height // WORK_SIZE)
    if factor >= 2:
        rgb = rgb.reduce(factor)
    return rgb.resize((WORK_SIZE, WORK_SIZE), Image.Resampling.NEAREST)


def copy_of(rgb):
    """The :class:`Copy` of a decoded RGB image (see :func:`working_copy`)."""
    sample = working_copy(rgb)
    grey = sample.convert("L")
    colours = sample.resize((PIXEL_SIZE, PIXEL_SIZE), Image.Resampling.NEAREST)
    return Copy(grey.tobytes(), colours.tobytes(), grey.histogram())


def measure(copies):
    """Every number of a batch of :class:`Copy`, image by image.

    Returns:
        list of tuples, one per copy: (pixel hash, dhash, mirror dhash, entropy, sharpness,
        colourfulness, tiny grey bytes), as :func:`pixel_hash`, :func:`look_hashes`,
        :func:`entropy`, :func:`sharpness`, :func:`colourfulness` and :func:`tiny_grey` give
        them, in the order of ``scan.Scanned``'s fields.
    """
    n = len(copies)
    grey = numpy.frombuffer(b"".join(c.grey for c in copies), numpy.uint8)
    grey = grey.reshape(n, WORK_SIZE, WORK_SIZE)
    colours = numpy.frombuffer(b"".join(c.colours for c in copies), numpy.uint8)
    rows = row_sums(grey)
    tiny = tiny_grey(rows)
    dhash, mirror = look_hashes(rows)
    histograms = numpy.array([c.histogram for c in copies], numpy.int32)   # typed: faster
    numbers = zip(dhash, mirror, entropy(histograms),
                  sharpness(grey), colourfulness(colours.reshape(n, -1, 3)))
    return [(pixel_hash(t, c.colours), *values, t)
            for t, c, values in zip(tiny, copies, numbers)]


# The dhash thumbnail's cells: 8 rows of WORK_SIZE / 8 pixels, 9 columns cut at the pixel
# nearest to k * WORK_SIZE / 9 (14 or 15 pixels wide).
_COLUMN_EDGES = [round(k * WORK_SIZE / 9) for k in range(10)]
_CELL_AREAS = numpy.diff(_COLUMN_EDGES) * (WORK_SIZE // 8)
_BLOCK = WORK_SIZE // PIXEL_SIZE    # the tiny copy's cells: _BLOCK x _BLOCK pixels


def row_sums(grey):
    """Sums of every _BLOCK rows of the grey copies: (n, PIXEL_SIZE, WORK_SIZE) uint16 (the
    largest, 8 x 255, fits), what :func:`tiny_grey` and :func:`look_hashes` add up further.

    Args:
        grey: uint8 array (n, WORK_SIZE, WORK_SIZE).
    """
    return grey.reshape(len(grey), PIXEL_SIZE, _BLOCK, WORK_SIZE).sum(axis=2, dtype=numpy.uint16)


def thumbnails(rows):
    """The 9x8 dhash thumbnails: the mean of each cell of a 9x8 grid on the grey copies.

    Args:
        rows: :func:`row_sums` of the grey copies.

    Returns:
        float64 array (n, 8, 9) (rows, columns).
    """
    # Every cell sum fits uint16: at most 16 x 15 x 255 = 61,200.
    rows8 = rows.reshape(len(rows), 8, PIXEL_SIZE // 8, WORK_SIZE).sum(axis=2, dtype=numpy.uint16)
    return numpy.add.reduceat(rows8, _COLUMN_EDGES[:-1], axis=2) / _CELL_AREAS


def look_hashes(rows):
    """(dhashes, dhashes of the mirror images) of a batch of grey copies, two lists of ints.

    Args:
        rows: :func:`row_sums` of the grey copies.

    The mirror's hash is what the left-right flipped image would hash to, so a flipped copy
    is found by comparing one image's hash with the other's mirror hash: its bit (r, c)
    compares cells (r, 7 - c) and (r, 8 - c) the other way round, so both hashes come from
    the one thumbnail.
    """
    thumb = thumbnails(rows)
    right = thumb[:, :, :-1] > thumb[:, :, 1:]
    left = (thumb[:, :, 1:] > thumb[:, :, :-1])[:, :, ::-1]
    return _as_ints(right), _as_ints(left)


def _as_ints(bits):
    """(n, 8, 8) bools -> n 64-bit ints, row-major, the first bit the most significant."""
    packed = numpy.packbits(bits.reshape(len(bits), 64), axis=1)
    return packed.view(">u8").ravel().tolist()


def tiny_grey(rows):
    """The grey copies box-averaged to PIXEL_SIZE x PIXEL_SIZE (rounded half up), one bytes
    object (row-major) per image: what confirms a near pair (``groups``) and the pixel hash.

    Args:
        rows: :func:`row_sums` of the grey copies.
    """
    sums = numpy.add.reduceat(rows, range(0, WORK_SIZE, _BLOCK), axis=2)   # <= 64 x 255
    tiny = ((sums + _BLOCK * _BLOCK // 2) // (_BLOCK * _BLOCK)).astype(numpy.uint8)
    return [t.tobytes() for t in tiny]


def look_difference(a, b):
    """Mean absolute difference (grey levels) of two :func:`tiny_grey` copies, the smaller
    of ``b`` as is and ``b`` mirrored left-right."""
    a = numpy.frombuffer(a, numpy.uint8).reshape(PIXEL_SIZE, PIXEL_SIZE).astype(numpy.int16)
    b = numpy.frombuffer(b, numpy.uint8).reshape(PIXEL_SIZE, PIXEL_SIZE).astype(numpy.int16)
    return float(min(numpy.abs(a - b).mean(), numpy.abs(a - b[:, ::-1]).mean()))


def pixel_hash(tiny, colours):
    """SHA-1 (hex) of one image's :func:`tiny_grey` bytes and ``Copy.colours``: equal for
    files that decode to the same pixels (a PNG and a BMP of one image, the same JPEG with
    other metadata)."""
    return hashlib.sha1(tiny + colours).hexdigest()


def entropy(histograms):
    """Entropy in bits of each 256-bin histogram of a WORK_SIZE x WORK_SIZE grey copy: 0 for
    one flat colour, 8 at most; photos are usually 6.5 to 7.8.

    Args:
        histograms: int array (n, 256) of counts summing to WORK_SIZE ** 2 each.

    Returns:
        list of n floats.
    """
    bits = math.log2(_AREA) - _C_LOG_C[histograms].sum(axis=1) / _AREA
    return numpy.maximum(bits, 0.0).tolist()     # no -0.0 or -1e-16 for a flat image


def sharpness(grey):
    """Variance of the 4-neighbour Laplacian of each grey copy (inner pixels): low for a
    blurred or flat image (edges are what the Laplacian sees).

    Args:
        grey: uint8 array (n, H, W), H and W >= 3, H x W under 2 million (int32 sums).

    Returns:
        list of n floats, from exact integer sums (so an image's value does not depend on
        its batch).
    """
    g = grey.astype(numpy.int16)            # holds every Laplacian value (-1020..1020)
    lap = g[:, 1:-1, :-2] + g[:, 1:-1, 2:]
    lap += g[:, :-2, 1:-1]
    lap += g[:, 2:, 1:-1]
    lap -= g[:, 1:-1, 1:-1] << 2
    count = lap[0].size
    lap = lap.reshape(len(lap), count)
    # int32 holds a sum of the values (|s1| <= 1020 x count) and each square (<= 1020 ** 2);
    # only the sum of squares needs int64 (narrower passes are faster: benchmarks/RESULTS.md).
    s1 = lap.sum(axis=1, dtype=numpy.int32).astype(numpy.int64)
    s2 = numpy.square(lap, dtype=numpy.int32).sum(axis=1, dtype=numpy.int64)
    return ((s2 - s1 * s1 / count) / count).tolist()


def colourfulness(rgb):
    """Mean of |R - G| + |G - B| over the pixels of each image: 0 for a grey image stored
    as RGB.

    Args:
        rgb: uint8 array (n, pixels, 3) (the audit gives it ``Copy.colours``).

    Returns:
        list of n floats.
    """
    steps = numpy.abs(numpy.diff(rgb.astype(numpy.int16), axis=2))
    return (steps.sum(axis=(1, 2)) / rgb.shape[1]).tolist()
