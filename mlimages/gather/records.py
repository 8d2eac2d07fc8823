"""The values that flow through a gather run: list items, per-URL records, statuses, errors."""

import dataclasses
from typing import NamedTuple

from mlimages.errors import MlimagesError


class GatherError(MlimagesError, ValueError):
    """The run cannot start or go on as asked (bad list, bad options, folder locked, ...)."""


class Item(NamedTuple):
    """One URL to fetch, as a source lists it.

    Attributes:
        url (str): the URL, as text (non-UTF-8 bytes of the list become %XX escapes).
        id (str or None): the list's id for it (ImageNet ``n02121808_1234``), names the file.
        label (str): relative POSIX folder under ``--out``, already made safe ("" = the top).
    """

    url: str
    id: "str | None"
    label: str


class Verdict(NamedTuple):
    """The result of :func:`~mlimages.gather.validate.check_body`.

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


# status -> (transient?, meaning). Transient failures are retried within a run (--retries) and,
# on a later run, only with --retry-failed; every other status is settled for good.
STATUSES = {
    "ok": (False, "kept: decoded completely, saved under path"),
    "bad_url": (False, "not an http(s) URL, one that cannot be requested, or a redirect to "
                       "another scheme (file:, ftp:, data:)"),
    "http_4xx": (False, "HTTP client error; the status is http_<code>, e.g. http_404, http_410"),
    "http_429": (True, "too many requests, still refused after --retries (Retry-After honoured)"),
    "http_5xx": (True, "server error (500-599) after --retries; the reason has the code"),
    "http_other": (False, "an answer other than 200 (e.g. 204, 3xx without Location): http_<code>"),
    "too_many_redirects": (False, "more than 10 redirects"),
    "timeout": (True, "no complete answer within --timeout seconds, after --retries"),
    "connection_error": (True, "DNS, refused, reset or cut-off transfer, after --retries"),
    "placeholder": (False, "a known 'photo unavailable' image (redirect target, SHA1 or look)"),
    "empty": (False, "200 with a zero-byte body"),
    "not_image": (False, "200 with something that is not an image (an HTML page, text)"),
    "truncated": (False, "image data, or a gzip/deflate stream, that stops early"),
    "corrupt": (False, "damaged image data, or a body that does not match its "
                       "gzip/deflate Content-Encoding"),
    "unsupported": (False, "an image format not opened here (SVG, HEIF, PDF, ICO, ...), or a "
                           "Content-Encoding other than gzip and deflate"),
    "too_large": (False, "body over --max-bytes, as received or as decoded, or too many "
                         "pixels (decompression bomb)"),
    "too_complex": (False, "a JPEG of absurdly many scans, refused before decoding, or a body "
                           "whose decoding overran its deadline (its worker was replaced)"),
    "too_small": (False, "short side under --min-size pixels"),
    "duplicate": (False, "same bytes as an image already kept (--dedupe)"),
    "write_error": (True, "the file could not be written (disk full? permissions?)"),
    "error": (True, "an unexpected failure; the reason names it (please report it)"),
    "over_limit": (False, "kept by its shard, left out of the merge: the shards together kept "
                          "more than --limit of its label (mergecheck.trim_to_limit)"),
}
TRANSIENT = frozenset(s for s, (transient, _) in STATUSES.items() if transient)


def is_transient(status):
    """True for failures worth retrying later (timeouts, resets, 5xx, 429, write errors)."""
    return status in TRANSIENT


@dataclasses.dataclass
class Record:
    """The outcome for one URL: one line of ``manifest.jsonl``.

    Attributes:
        url, id, label: from the :class:`Item`.
        status (str): ``ok`` or a failure slug (see ``STATUSES``; HTTP codes as ``http_404``).
        reason (str): details for people ("HTTP 503 Service Unavailable", Pillow's message).
        bytes (int): size of the body received (0 when none).
        path (str or None): the kept file, relative to ``--out``, POSIX separators.
        sha1 (str or None): SHA1 hex of the body received.
        elapsed (float): seconds from the first request to the decision, retries included.
    """

    url: str
    id: "str | None"
    label: str
    status: str
    reason: str = ""
    bytes: int = 0
    path: "str | None" = None
    sha1: "str | None" = None
    elapsed: float = 0.0

    def as_dict(self):
        """The manifest line's fields, in order (written out, not ``dataclasses.asdict``)."""
        return {"url": self.url, "id": self.id, "label": self.label, "status": self.status,
                "reason": self.reason, "bytes": self.bytes, "path": self.path,
                "sha1": self.sha1, "elapsed": self.elapsed}

    @classmethod
    def failed(cls, item, status, reason="", **fields):
        """A record for a URL that was not kept."""
        return cls(item.url, item.id, item.label, status, reason, **fields)
