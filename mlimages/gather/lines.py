"""Reading list files: line by line as bytes, in bounded memory, URLs decoded losslessly."""

import re

MAX_LINE_BYTES = 128 * 1024   # a longer line (newline included) is a bad line, skipped unread
_BOM = b"\xef\xbb\xbf"
_SURROGATES = re.compile("[\udc80-\udcff]+")


def decode_url(raw):
    """List bytes -> URL text; bytes that are not UTF-8 become %XX (the same request)."""
    text = raw.decode("utf-8", "surrogateescape")
    return _SURROGATES.sub(lambda m: "".join(f"%{ord(c) - 0xDC00:02X}" for c in m.group()), text)


def read_lines(path, stats=None):
    """(line number, bytes) of each line of ``path``, the first one without a BOM.

    A line longer than MAX_LINE_BYTES is counted as a bad line in ``stats`` (a
    :class:`~mlimages.gather.sources.SourceStats`, or None to only skip it) and skipped without
    reading it into memory whole.
    """
    with open(path, "rb") as f:
        for lineno, raw in enumerate(iter(lambda: f.readline(MAX_LINE_BYTES + 1), b""), 1):
            if lineno == 1:
                raw = raw.removeprefix(_BOM)
            if len(raw) <= MAX_LINE_BYTES:
                yield lineno, raw
                continue
            if stats is not None:
                stats.lines += 1
                stats.bad(f"{path}:{lineno}", raw, f"longer than {MAX_LINE_BYTES} bytes")
            while raw and not raw.endswith(b"\n"):
                raw = f.readline(1 << 16)
