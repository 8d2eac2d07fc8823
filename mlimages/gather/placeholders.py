"""Placeholder rules: how a "this photo is no longer available" answer is recognised.

Three kinds of rule (the format of ``mlimages/gather/known_placeholders.txt``): the URL a redirect
ended at (whole, or its file name), the SHA1 of the body, and a perceptual hash (dhash) with
the aspect ratio it was taken at.  Matching URLs happens on the event loop, before a body is
read; SHA1 and dhash are checked in the decoding workers (``validate.py``).

Nothing here decodes an image unless a ``--placeholder`` file is one, so the event loop's
process loads no image library for the built-in rules.
"""

import dataclasses
import hashlib
import math
import re
from pathlib import Path
from urllib.parse import urlsplit

from mlimages.gather.records import GatherError

KNOWN = Path(__file__).resolve().parent / "known_placeholders.txt"
ASPECT_TOLERANCE = 0.03   # a dhash match needs the same aspect: it does not survive cropping
# kind -> the form to write, for errors (its meaning: known_placeholders.txt).
_FORMS = {"url-name": "url-name NAME (the last segment of the final URL, no '/')",
          "url": "url URL (a whole http:// or https:// URL)",
          "sha1": "sha1 HEX (40 hex digits)",
          "dhash": "dhash HEX ASPECT [name] (HEX: up to 16 hex digits; ASPECT: width/height, "
                   "a number > 0 such as 1.333)"}
_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclasses.dataclass(frozen=True)
class Placeholders:
    """Rules that recognise placeholder images (see ``known_placeholders.txt`` for their meaning)."""

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

    def near(self, size):
        """The dhash rules taken at about the aspect ratio of ``size`` (width, height)."""
        aspect = size[0] / size[1]
        return [r for r in self.dhash if abs(aspect / r[1] - 1) <= ASPECT_TOLERANCE]


def load_placeholders(files=(), builtin=True):
    """The built-in rules plus those of each ``--placeholder`` file.

    Args:
        files: paths of images (their SHA1 and dhash become rules) or of rule lists.
        builtin (bool): start from ``known_placeholders.txt``.

    Raises:
        GatherError: a file that is neither an image nor a rule list.
    """
    rules = parse_rules(KNOWN.read_text("utf-8"), KNOWN) if builtin else Placeholders()
    for path in files:
        rules = rules.merged(_rules_from_file(Path(path)))
    return rules


def _rules_from_file(path):
    # Imported here: only an image given as --placeholder needs the decoder.
    from mlimages.gather.validate import dhash
    from mlimages.image import ImageError, verify_image

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
    """Parse ``KIND VALUE [DETAIL]`` lines (the ``known_placeholders.txt`` format) into Placeholders.

    Every rule is checked here, so that none can fail (or silently never match) during the
    downloads.

    Raises:
        GatherError: one line naming ``where``, the line number, what is wrong and the form
            to write.
    """
    found = {kind: [] for kind in _FORMS}
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        problem = _problem(parts)
        if problem:
            form = _FORMS.get(parts[0], f"one of {', '.join(_FORMS)} and a value")
            raise GatherError(
                f"{where}:{lineno}: {line.strip()[:80]!r} is not a placeholder rule ({problem}); "
                f"write {form}, as in mlimages/gather/known_placeholders.txt")
        found[parts[0]].append(_value(parts))
    return Placeholders(frozenset(v.lower() for v in found["url-name"]), frozenset(found["url"]),
                        frozenset(v.lower() for v in found["sha1"]), tuple(found["dhash"]))


def _problem(parts):
    """What is wrong with a rule split into words (kind, value, details), or None."""
    kind, values = parts[0], parts[1:]
    if kind not in _FORMS:
        return f"unknown kind {kind!r}"
    if not values:
        return "no value"
    value = values[0]
    if kind == "url-name" and "/" in value:
        return f"{value!r} has a '/'; a whole URL is a url rule"
    if kind == "url" and not _is_http_url(value):
        return f"{value!r} is no http(s) URL; a file name alone is a url-name rule"
    if kind == "sha1" and not (len(value) == 40 and _HEX.fullmatch(value)):
        return f"{value!r} is not 40 hex digits"
    if kind == "dhash":
        if not (len(value) <= 16 and _HEX.fullmatch(value)):
            return f"{value!r} is not 1 to 16 hex digits (64 bits)"
        if len(values) < 2:
            return "no aspect ratio"
        if not _positive(values[1]):
            return f"aspect {values[1]!r} is not a number > 0"
    return None


def _is_http_url(text):
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _positive(text):
    try:
        number = float(text)
    except ValueError:
        return False
    return math.isfinite(number) and number > 0


def _value(parts):
    """The value a checked rule adds: text, or (hash, aspect, detail) for dhash."""
    kind, value = parts[0], parts[1]
    if kind == "dhash":
        return int(value, 16), float(parts[2]), " ".join(parts[3:]) or value
    return value
