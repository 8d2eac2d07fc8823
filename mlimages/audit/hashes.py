"""The numbers one decoded working copy gives: its hashes and its quality measures.

:func:`working_copies` makes, from the decoded image, a grey WORK_SIZE x WORK_SIZE copy and
an RGB PIXEL_SIZE x PIXEL_SIZE one (see ``options``); every other function takes one of them
(a PIL image or a uint8 array) and returns plain values. :func:`measure` gives them all for
one decoded image (what the scan calls), making each copy and array once.

The perceptual hash is gather's dhash (``mlimages.gather.validate.dhash``): 64 bits, bit
``r * 8 + c`` (from the most significant) set where pixel (r, c) of a 9x8 grey thumbnail is
brighter than its right neighbour. Gather computes it from a file; here it comes from the
copy already decoded, so an image is decoded once (the two agree on the same thumbnail:
tests/audit/test_hashes.py).
"""

import hashlib

import numpy
from PIL import Image

from mlimages.audit.options import PIXEL_SIZE, WORK_SIZE

_DHASH_SIZE = (9, 8)


def dhash_bits(thumb):
    """The 64-bit dhash of a (8, 9) grey thumbnail.

    Args:
        thumb: uint8 array of shape (8, 9) (rows, columns).

    Returns:
        int: bit set where a pixel is brighter than its right neighbour, row by row.
    """
    px = numpy.asarray(thumb, dtype=numpy.int16)
    return int.from_bytes(numpy.packbits(px[:, :-1] > px[:, 1:]).tobytes(), "big")


def look_hashes(grey):
    """(dhash, dhash of the mirror image) of a grey working copy (PIL mode "L").

    The mirror's hash is what the left-right flipped image would hash to, so a flipped copy
    is found by comparing one image's hash with the other's mirror hash.
    """
    thumb = grey.resize(_DHASH_SIZE, Image.Resampling.BOX).tobytes()
    px = numpy.frombuffer(thumb, numpy.uint8).reshape(_DHASH_SIZE[1], _DHASH_SIZE[0])
    # The mirror's bit (r, c) compares pixels (r, 7 - c) and (r, 8 - c) the other way round,
    # so both hashes come from the one thumbnail (uint8 compares exactly: no int16 copy).
    mirror = numpy.packbits((px[:, 1:] > px[:, :-1])[:, ::-1]).tobytes()
    return int.from_bytes(numpy.packbits(px[:, :-1] > px[:, 1:]).tobytes(), "big"), \
        int.from_bytes(mirror, "big")


def working_copies(rgb):
    """The two small copies every number is taken on, from the decoded RGB image.

    Returns:
        (grey, small): ``grey`` mode "L", WORK_SIZE x WORK_SIZE (squashed, bilinear; the dhash,
        entropy and sharpness); ``small`` RGB, PIXEL_SIZE x PIXEL_SIZE box averages (the pixel
        hash and the colour measure: a box average keeps a grey image grey).
    """
    grey = rgb.convert("L").resize((WORK_SIZE, WORK_SIZE), Image.Resampling.BILINEAR,
                                   reducing_gap=2.0)
    return grey, rgb.resize((PIXEL_SIZE, PIXEL_SIZE), Image.Resampling.BOX, reducing_gap=2.0)


def measure(rgb):
    """Every number of one decoded RGB image, each array made once from its working copies.

    Returns:
        tuple: (pixel hash, dhash, mirror dhash, entropy, sharpness, colourfulness, tiny grey
        bytes), the same values as :func:`pixel_hash`, :func:`look_hashes`, :func:`entropy`,
        :func:`sharpness`, :func:`colourfulness` and :func:`tiny_grey` on
        :func:`working_copies`, in the order of ``scan.Scanned``'s fields.
    """
    grey_im, small = working_copies(rgb)
    grey = numpy.frombuffer(grey_im.tobytes(), numpy.uint8).reshape(WORK_SIZE, WORK_SIZE)
    small_bytes = small.tobytes()
    colours = numpy.frombuffer(small_bytes, numpy.uint8).reshape(PIXEL_SIZE, PIXEL_SIZE, 3)
    return (hashlib.sha1(small_bytes).hexdigest(), *look_hashes(grey_im),
            histogram_entropy(numpy.fromiter(grey_im.histogram(), numpy.int64, 256)), sharpness(grey),
            colourfulness(colours), tiny_grey(grey_im))


def tiny_grey(grey):
    """The grey working copy box-averaged to PIXEL_SIZE x PIXEL_SIZE, as bytes (row-major):
    what confirms a near pair (``groups``)."""
    return grey.resize((PIXEL_SIZE, PIXEL_SIZE), Image.Resampling.BOX).tobytes()


def look_difference(a, b):
    """Mean absolute difference (grey levels) of two :func:`tiny_grey` copies, the smaller
    of ``b`` as is and ``b`` mirrored left-right."""
    a = numpy.frombuffer(a, numpy.uint8).reshape(PIXEL_SIZE, PIXEL_SIZE).astype(numpy.int16)
    b = numpy.frombuffer(b, numpy.uint8).reshape(PIXEL_SIZE, PIXEL_SIZE).astype(numpy.int16)
    return float(min(numpy.abs(a - b).mean(), numpy.abs(a - b[:, ::-1]).mean()))


def pixel_hash(small):
    """SHA-1 (hex) of the small copy's bytes (:func:`working_copies`): equal for files that decode to the same
    pixels (a PNG and a BMP of one image, the same JPEG with other metadata)."""
    return hashlib.sha1(small.tobytes()).hexdigest()


def entropy(grey):
    """Entropy in bits of the 256-bin histogram of ``grey`` (uint8 array): 0 for one flat
    colour, 8 at most; photos are usually 6.5 to 7.8."""
    return histogram_entropy(numpy.bincount(grey.ravel(), minlength=256))


def histogram_entropy(counts):
    """:func:`entropy` from the 256 counts of the histogram (int64 array; Pillow's
    ``histogram()`` of a mode "L" image gives them without a pass in Python)."""
    p = counts[counts > 0] / counts.sum()
    return max(0.0, float(-(p * numpy.log2(p)).sum()))   # no -0.0


def sharpness(grey):
    """Variance of the 4-neighbour Laplacian of ``grey`` (uint8 array, >= 3x3): low for a
    blurred or flat image (edges are what the Laplacian sees)."""
    # int16 holds every value (-1020..1020) exactly, as float32 did: the same variance.
    g = grey.astype(numpy.int16)
    lap = g[1:-1, :-2] + g[1:-1, 2:]
    lap += g[:-2, 1:-1]
    lap += g[2:, 1:-1]
    lap -= 4 * g[1:-1, 1:-1]
    return float(lap.astype(numpy.float32).var())


def colourfulness(rgb):
    """Mean of |R - G| + |G - B| over the pixels of ``rgb`` (uint8 array, HxWx3; the audit
    gives it :func:`small_copy`): 0 for a grey image stored as RGB."""
    c = rgb.astype(numpy.int16)
    return float((numpy.abs(c[..., 0] - c[..., 1]) + numpy.abs(c[..., 1] - c[..., 2])).mean())
