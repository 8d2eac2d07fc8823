"""Is a downloaded body an image worth keeping?  Full decode, size, known placeholders.

Runs in the decoding workers (``workers.py``), never on the event loop.  Every body is decoded
completely by :func:`mlimages.image.verify_image` (a JPEG at 1/8 scale through libjpeg's draft
mode: every entropy-coded byte is still read, so truncation is still caught, for less than a
full-size decode costs; figures in benchmarks/RESULTS.md).  Placeholders (rules in ``placeholders.py``) are recognised by
the URL a redirect ended at (on the loop, before this), by SHA1, and by a perceptual hash
(dhash: 64 bits, the sign of each horizontal step of a 9x8 grey thumbnail), which survives
re-encoding and resizing.  The dhash needs a second decode, so it is computed only for images
whose aspect ratio is near a known placeholder's (``Placeholders.near``).
"""

import hashlib
import io

import numpy

from mlimages.gather.records import STATUSES, Verdict
from mlimages.image import ImageError, ImageSpec, open_image, verify_image

MAX_DISTANCE = 5          # dhash bits that may differ (random pairs differ by ~32)


def dhash(source, name=None):
    """64-bit difference hash of an image's look.

    Args:
        source: path, bytes or file object of an image.

    Returns:
        int: bit i set where pixel (row, col) is brighter than its right neighbour in a 9x8
        grey thumbnail (rows top to bottom, 8 steps each).
    """
    spec = ImageSpec(size=(9, 8), resize="squash", grayscale=True)
    return dhash_bits(numpy.asarray(open_image(source, spec, name=name)))


def dhash_bits(thumb):
    """The 64-bit dhash of a 9x8 grey thumbnail, the rule ``mlimages audit`` follows too.

    Args:
        thumb: array (8, 9) (rows, columns) of any numeric dtype.

    Returns:
        int: bit set where a cell is brighter than its right neighbour, row by row, the first
        bit the most significant.
    """
    px = numpy.asarray(thumb)
    return int.from_bytes(numpy.packbits(px[:, :-1] > px[:, 1:]).tobytes(), "big")


def check_body(body, name, min_size, placeholders):
    """Decide whether a downloaded body is kept.  CPU work: run it off the event loop.

    Args:
        body (bytes): what the server sent.
        name (str): the URL, for messages.
        min_size (int): reject images whose short side is smaller (0: no check).
        placeholders (mlimages.gather.placeholders.Placeholders): rules to reject.

    Returns:
        Verdict: status "ok" only for a completely decodable image that is no placeholder.
    """
    sha1 = hashlib.sha1(body).hexdigest()
    if sha1 in placeholders.sha1:
        return Verdict("placeholder", f"SHA1 {sha1} is a known placeholder", sha1)
    try:
        info = verify_image(body, name=name)
    except ImageError as e:
        # An ImageError's reason is its manifest status (the slugs are the same on purpose).
        status = e.reason if e.reason in STATUSES else "error"
        return Verdict(status, e.detail or e.reason, sha1)
    width, height = info.size
    if min(width, height) < min_size:
        return Verdict("too_small", f"{width}x{height} < --min-size {min_size}", sha1,
                       info.format, info.size)
    look = match_look(placeholders, body, info.size, name)
    if look:
        return Verdict("placeholder", look, sha1, info.format, info.size)
    return Verdict("ok", "", sha1, info.format, info.size)


def match_look(placeholders, body, size, name=None):
    """The dhash rule ``body`` (of ``size``) matches, or None; only near aspects are tried."""
    near = placeholders.near(size)
    if not near:
        return None
    value = dhash(body, name=name)
    for known, _, detail in near:
        distance = (value ^ known).bit_count()
        if distance <= MAX_DISTANCE:
            return f"looks like placeholder {detail} (dhash distance {distance})"
    return None


def reencode(body, name, spec, quality):
    """Resize a kept image (``--resize``) and return it as JPEG bytes."""
    out = io.BytesIO()
    open_image(body, spec, name=name).save(out, "JPEG", quality=quality)
    return out.getvalue()
