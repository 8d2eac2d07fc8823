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
from pathlib import Path
from urllib.parse import urlsplit

from mlimages.gather.records import GatherError

KNOWN = Path(__file__).resolve().parent / "known_placeholders.txt"
ASPECT_TOLERANCE = 0.03   # a dhash match needs the same aspect: it does not survive cropping
_KINDS = ("url-name", "url", "sha1", "dhash")


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
    """Parse ``KIND VALUE [DETAIL]`` lines (the ``known_placeholders.txt`` format) into Placeholders."""
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
                f"one of {', '.join(_KINDS)} and a value (see mlimages/gather/known_placeholders.txt)"
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
