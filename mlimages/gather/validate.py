"""Is a downloaded body an image worth keeping?  Full decode, size, known placeholders.

Every body is decoded completely by :func:`mlimages.image.verify_image` (a JPEG at 1/8 scale
through libjpeg's draft mode: every entropy-coded byte is still read, so truncation is still
caught, at about 2/3 of the cost of a full-size decode).  Placeholders are recognised three
ways (see ``mlimages/placeholders/known.txt``): by the URL a redirect ended at, by SHA1, and by
a perceptual hash (dhash: 64 bits, the sign of each horizontal step of a 9x8 grey thumbnail),
which survives re-encoding and resizing.  The dhash needs a second decode, so it is computed
only for images whose aspect ratio is within ``ASPECT_TOLERANCE`` of a known placeholder's
(a dhash match needs the same aspect anyway: it does not survive cropping).
"""

import dataclasses
import hashlib
import io
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import numpy

from mlimages.gather.records import GatherError
from mlimages.image import ImageError, ImageSpec, open_image, verify_image

KNOWN = Path(__file__).resolve().parent.parent / "placeholders" / "known.txt"
MAX_DISTANCE = 5          # dhash bits that may differ (random pairs differ by ~32)
ASPECT_TOLERANCE = 0.03
_KINDS = ("url-name", "url", "sha1", "dhash")
# ImageError.reason -> manifest status (the slugs are the same on purpose).
_STATUS = {"empty": "empty", "truncated": "truncated", "not_image": "not_image",
           "unsupported": "unsupported", "corrupt": "corrupt", "too_large": "too_large"}


class Verdict(NamedTuple):
    """The result of :func:`check_body`.

    Attributes:
        status (str): "ok" or a manifest failure status.
        reason (str): why, for people.
        sha1 (str): SHA1 hex of the body.
        format (str or None): Pillow's format name ("JPEG", "PNG", ...) when it decoded.
        size (tuple or None): (width, height) as shown.
    """

    status: str
    reason: str
    sha1: str
    format: "str | None" = None
    size: "tuple | None" = None


@dataclasses.dataclass(frozen=True)
class Placeholders:
    """Rules that recognise placeholder images (see ``known.txt`` for their meaning)."""

    url_names: frozenset = frozenset()
    urls: frozenset = frozenset()
    sha1: frozenset = frozenset()
    dhash: tuple = ()            # ((hash int, aspect float, detail str), ...)

    def merged(self, other):
        return Placeholders(self.url_names | other.url_names, self.urls | other.urls,
                            self.sha1 | other.sha1, self.dhash + other.dhash)

    def match_url(self, url):
        """The rule a final URL matches, or None."""
        try:
            name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
        except ValueError:
            return None
        if url in self.urls:
            return f"redirected to {url}"
        if name in self.url_names:
            return f"redirected to {url} (a placeholder name)"
        return None

    def match_look(self, body, size, name):
        """The dhash rule ``body`` matches (only tried for a known aspect ratio), or None."""
        aspect = size[0] / size[1]
        near = [r for r in self.dhash if abs(aspect / r[1] - 1) <= ASPECT_TOLERANCE]
        if not near:
            return None
        value = dhash(body, name=name)
        for known, _, detail in near:
            distance = (value ^ known).bit_count()
            if distance <= MAX_DISTANCE:
                return f"looks like placeholder {detail} (dhash distance {distance})"
        return None


def dhash(source, name=None):
    """64-bit difference hash of an image's look.

    Args:
        source: path, bytes or file object of an image.

    Returns:
        int: bit i set where pixel (row, col) is brighter than its right neighbour in a 9x8
        grey thumbnail (rows top to bottom, 8 steps each).
    """
    spec = ImageSpec(size=(9, 8), resize="squash", grayscale=True)
    px = numpy.asarray(open_image(source, spec, name=name), dtype=numpy.int16)
    return int.from_bytes(numpy.packbits(px[:, :-1] > px[:, 1:]).tobytes(), "big")


def check_body(body, name, min_size, placeholders):
    """Decide whether a downloaded body is kept.  CPU work: run it off the event loop.

    Args:
        body (bytes): what the server sent.
        name (str): the URL, for messages.
        min_size (int): reject images whose short side is smaller (0: no check).
        placeholders (Placeholders): rules to reject.

    Returns:
        Verdict: status "ok" only for a completely decodable image that is no placeholder.
    """
    sha1 = hashlib.sha1(body).hexdigest()
    if sha1 in placeholders.sha1:
        return Verdict("placeholder", f"SHA1 {sha1} is a known placeholder", sha1)
    try:
        info = verify_image(body, name=name)
    except ImageError as e:
        return Verdict(_STATUS.get(e.reason, "error"), e.detail or e.reason, sha1)
    width, height = info.size
    if min(width, height) < min_size:
        return Verdict("too_small", f"{width}x{height} < --min-size {min_size}", sha1,
                       info.format, info.size)
    look = placeholders.match_look(body, info.size, name)
    if look:
        return Verdict("placeholder", look, sha1, info.format, info.size)
    return Verdict("ok", "", sha1, info.format, info.size)


def reencode(body, name, spec, quality):
    """Resize a kept image (``--resize``) and return it as JPEG bytes."""
    out = io.BytesIO()
    open_image(body, spec, name=name).save(out, "JPEG", quality=quality)
    return out.getvalue()


def load_placeholders(files=(), builtin=True):
    """The built-in rules plus those of each ``--placeholder`` file.

    Args:
        files: paths of images (their SHA1 and dhash become rules) or of rule lists.
        builtin (bool): start from ``known.txt``.

    Raises:
        GatherError: a file that is neither an image nor a rule list.
    """
    rules = parse_rules(KNOWN.read_text("utf-8"), KNOWN) if builtin else Placeholders()
    for path in files:
        rules = rules.merged(_rules_from_file(Path(path)))
    return rules


def _rules_from_file(path):
    try:
        data = path.read_bytes()
    except OSError as e:
        raise GatherError(f"--placeholder {path}: {e.strerror}") from None
    try:
        info = verify_image(data, name=str(path))
    except ImageError as e:
        if e.reason not in ("not_image", "empty"):
            raise GatherError(f"--placeholder {path}: {e}") from None
        return parse_rules(data.decode("utf-8", "replace"), path)
    aspect = info.size[0] / info.size[1]
    return Placeholders(sha1=frozenset({hashlib.sha1(data).hexdigest()}),
                        dhash=((dhash(data, name=str(path)), aspect, path.name),))


def parse_rules(text, where):
    """Parse ``KIND VALUE [DETAIL]`` lines (the ``known.txt`` format) into Placeholders."""
    found = {kind: [] for kind in _KINDS}
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        try:
            found[parts[0]].append(_parse_rule(parts))
        except (KeyError, ValueError, IndexError):
            raise GatherError(
                f"{where}:{lineno}: {line.strip()!r} is not a placeholder rule; expected "
                f"one of {', '.join(_KINDS)} and a value (see mlimages/placeholders/known.txt)"
            ) from None
    return Placeholders(frozenset(v.lower() for v in found["url-name"]), frozenset(found["url"]),
                        frozenset(v.lower() for v in found["sha1"]), tuple(found["dhash"]))


def _parse_rule(parts):
    kind, value = parts[0], parts[1]
    if kind == "sha1" and len(value) != 40:
        raise ValueError(value)
    if kind == "sha1":
        int(value, 16)
    if kind == "dhash":
        return int(value, 16), float(parts[2]), " ".join(parts[3:]) or value
    return value
