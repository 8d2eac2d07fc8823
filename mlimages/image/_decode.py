"""What the raw bytes say: input names, content sniffing, the formats opened, JPEG scans,
failure reasons, the JPEG draft.

Pure helpers of :mod:`mlimages.image`: they look at an input or an exception and return values
(a name, a content type, a ``(reason, detail)`` pair); raising :class:`~mlimages.image.ImageError`
is left to the package's ``_opened`` boundary.
"""

import io
import os
import re
import struct

from PIL import Image

from mlimages.image._convert import cover_size, oriented_size

BYTES = (bytes, bytearray, memoryview)
_MAGIC = [(b"\xff\xd8", "JPEG"), (b"\x89PNG", "PNG"), (b"GIF8", "GIF"), (b"%PDF", "PDF"),
          (b"\xff\x0a", "JPEG XL"), (b"\x00\x00\x00\x0cJXL ", "JPEG XL")]
_ENDINGS = {"JPEG": b"\xff\xd9", "PNG": b"IEND\xaeB`\x82", "GIF": b";"}

# The only Pillow readers ever run (Image.open's ``formats``): others (ICO, PSD, TGA, EPS, ...)
# are more attack surface than a training set needs, and some decode while opening.
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "PPM")
# Every scan of a progressive JPEG is a pass over all its coefficients: a few bytes can ask
# for thousands. Encoders write about 10; 256 is the cap nvImageCodec ships
# (NVIMGCODEC_MAX_JPEG_SCANS) against the scan bomb of Cure53's libjpeg-turbo audit.
MAX_JPEG_SCANS = 256
_FILLED_MARKER = re.compile(rb"\xff+([^\x00\xff])")  # a marker after its fill bytes
_MARKER = re.compile(rb"\xff([^\x00\xff])")  # one 0xff only: a search stays linear in fill
_SOS = re.compile(rb"\xff\xda")  # the start-of-scan marker, wherever the pair occurs
_NO_LENGTH = frozenset([0x01, *range(0xD0, 0xD8)])  # TEM, RST0..7: markers without a length


def name_of(source, name):
    """What errors call ``source``: ``name`` if given, else the path, "<bytes>" or the
    file object's ``name`` ("<stream>" without one)."""
    if name is None and isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if name is None and isinstance(source, BYTES):
        return "<bytes>"
    return str(name if name is not None else getattr(source, "name", "<stream>"))


def classify(ex, fp, opened):
    """Map an exception from Pillow to (reason slug, detail text), looking at the bytes.

    Args:
        ex: what Pillow raised.
        fp: the binary file object it read (re-read here from the start).
        opened (bool): whether ``Image.open`` had succeeded (the header parsed).

    Returns:
        (str, str): a key of ``mlimages.image.REASONS`` and what was found.
    """
    head, tail = _peek(fp)
    detail = f"{type(ex).__name__}: {ex}"
    text = str(ex).lower()
    kind = sniff(head)
    if isinstance(ex, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return "too_large", detail
    if not head:
        return "empty", "0 bytes"
    if kind in ("HTML", "text") and not opened:
        return "not_image", f"starts like {kind}: {head[:24]!r}"
    if kind in ("HEIF/AVIF", "PDF", "SVG", "JPEG XL"):
        return "unsupported", f"{kind} data"
    other = None if opened or kind else other_format(head)
    if other:
        return "unsupported", f"{other} data; formats opened: {', '.join(FORMATS)}"
    if "truncated" in text or isinstance(ex, (EOFError, struct.error)):
        return "truncated", detail
    if "not available" in text or "not supported" in text or "unsupported" in text:
        return "unsupported", detail
    if kind in _ENDINGS and not tail.endswith(_ENDINGS[kind]):
        # A known signature whose end marker is missing: the file was cut short.
        return "truncated", f"{kind} data without its end marker"
    return ("corrupt" if opened or kind else "not_image"), detail


def other_format(head):
    """The Pillow format outside ``FORMATS`` whose signature ``head`` carries, or None.

    Asks only each reader's signature test (``Image.OPEN``'s accept functions), never a reader.
    """
    Image.init()
    for name, (_, accept) in Image.OPEN.items():
        if name not in FORMATS and accept is not None and _accepts(accept, head[:16]):
            return name
    return None


def _accepts(accept, prefix):
    """``accept(prefix)``, False where the test itself fails (short data), as in Image.open."""
    try:
        return bool(accept(prefix))
    except (SyntaxError, IndexError, TypeError, ValueError, struct.error):
        return False


def too_many_scans(data, limit=MAX_JPEG_SCANS):
    """Whether JPEG ``data`` has more than ``limit`` scans (:func:`jpeg_scans`).

    Every scan starts with the two bytes FF DA, so their count bounds the scans from above:
    at or under ``limit`` (every ordinary file) it settles the question in one regex pass
    (half the time of the walk; ``bytes.count`` is slower still), and only a file with more
    FF DA pairs is walked marker by marker.
    """
    return len(_SOS.findall(data)) > limit and jpeg_scans(data, limit) > limit


def over_scan_limit(im, fp):
    """Whether ``im`` (just opened from ``fp``) is a JPEG of more than ``MAX_JPEG_SCANS``
    scans, from its markers, before decoding; ``fp`` is left where it was. A file that
    libjpeg decodes in one scan (:func:`single_scan`) is answered without reading its data."""
    if im.format not in ("JPEG", "MPO"):
        return False
    where = fp.tell()
    try:
        if single_scan(im, fp):
            return False
        fp.seek(0)
        return too_many_scans(fp.read())
    finally:
        fp.seek(where)


def single_scan(im, fp):
    """Whether libjpeg will decode JPEG ``im`` (just opened from ``fp``) in one scan.

    True for a sequential (not progressive) file whose first scan holds every component of
    the frame: libjpeg then refuses any second scan ("expected EOI", an error), so the file
    cannot be a scan bomb, and counting its scans (a pass over every byte) is skipped. Pillow's
    parser stops right after that first scan's header; it is read there and must be an SOS
    segment of the right length (any doubt, e.g. another Pillow, answers False: count them).
    Moves ``fp``.
    """
    components = getattr(im, "layers", 0)
    if im.info.get("progressive") or not 1 <= components <= 4:
        return False
    size = 6 + 2 * components  # the SOS segment's length field: 6 + 2 bytes per component
    try:
        end = fp.tell()
        if end < size + 2:
            return False
        fp.seek(end - size - 2)
        header = fp.read(5)
    except (OSError, ValueError):
        return False
    return header == b"\xff\xda" + size.to_bytes(2, "big") + bytes([components])


def jpeg_scans(data, stop=MAX_JPEG_SCANS):
    """Count the scans (SOS markers) of the first image in JPEG ``data``, walking its segments.

    Skips segment payloads by their lengths and each scan's entropy-coded data up to its next
    marker, so bytes inside them are never taken for markers. Stops at EOI, at data that is no
    marker where one must be (the decoder reports that), or once the count passes ``stop``.

    Returns:
        int: the number of scans, at most ``stop + 1``.
    """
    pos, scans = 2, 0
    while (found := _FILLED_MARKER.match(data, pos)) and scans <= stop:
        marker, pos = found[1][0], found.end()
        if marker == 0xD9:
            break
        if marker in _NO_LENGTH:
            continue
        pos += int.from_bytes(data[pos:pos + 2], "big")
        if marker == 0xDA:
            scans += 1
            pos = _next_marker(data, pos)
    return scans


def _next_marker(data, pos):
    """Where the entropy-coded data starting at ``pos`` ends: its first marker other than
    RST0..7 (or the end of ``data``)."""
    while (found := _MARKER.search(data, pos)) and found[1][0] in _NO_LENGTH:
        pos = found.end()
    return found.start() if found else len(data)


def _peek(fp):
    """First 512 and last 16 bytes of the input (empty if it cannot be re-read)."""
    try:
        fp.seek(0)
        head = fp.read(512)
        fp.seek(max(0, fp.seek(0, io.SEEK_END) - 16))
        return head, fp.read(16)
    except (OSError, ValueError):
        return b"", b""


def sniff(head):
    """A rough content type from the first bytes, or None."""
    kind = next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)
    start = head.lstrip().lower()
    if kind or head[4:8] == b"ftyp":
        return kind or "HEIF/AVIF"
    if b"<svg" in start:
        return "SVG"
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "HTML"
    printable = all(32 <= b < 127 or b in b"\t\r\n" for b in head)
    return "text" if head and printable else None


def draft(im, spec):
    """Ask libjpeg for a reduced-scale decode that still covers what the resize needs."""
    if spec.size is None or spec.resize in (None, "crop"):
        return
    shown = oriented_size(im)
    need = spec.size if spec.resize == "squash" else cover_size(shown, spec.size)
    if shown != im.size:
        need = need[::-1]  # the file stores the image rotated by 90 degrees
    im.draft("RGB", need)  # Pillow's draft never goes below ``need`` in either axis
