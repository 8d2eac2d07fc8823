"""URL sources: ImageNet URL lists, plain lists, CSV files and the ImageNet text API.

Every source is a stream of :class:`~mlimages.gather.records.Item` values; list files are read
line by line as bytes (a UTF-8 byte-order mark dropped, memory flat whatever their length,
non-UTF-8 lines tolerated) and lines that do not parse, or are longer than MAX_LINE_BYTES, are
counted in :class:`SourceStats`, never fatal.  A CSV line is one row: a quote left open makes
that line bad, never the rows after it part of it.  The ImageNet sources first *plan* the
synsets' folders (:mod:`mlimages.gather.imagenet`).
"""

import csv
import dataclasses
import hashlib
import logging
import re
from pathlib import Path
from typing import NamedTuple

from mlimages.gather.imagenet import (WNID, ApiCatalog, FileCatalog, as_text, iter_api,
                                      plan_synsets)
from mlimages.gather.names import safe_component, safe_folder
from mlimages.gather.records import GatherError, Item

FORMATS = ("auto", "imagenet", "plain", "csv")
DEFAULT_API = "http://www.image-net.org/api/text/"
_SURROGATES = re.compile("[\udc80-\udcff]+")
_MAX_EXAMPLES = 5
MAX_LINE_BYTES = 128 * 1024   # a longer line (newline included) is a bad line, skipped unread
_BOM = b"\xef\xbb\xbf"
# CSV header names (compared lower-case, spaces and "-" as "_"), the first one found wins.
URL_COLUMNS = ("url", "image_url", "img_url", "imageurl", "photo_url", "image", "img", "photo",
               "link", "uri", "src")
LABEL_COLUMNS = ("label", "class", "class_name", "category", "name", "tag", "synset", "wnid")
ID_COLUMNS = ("id", "image_id", "key")
_log = logging.getLogger(__name__)


@dataclasses.dataclass
class SourceOptions:
    """Where the URLs come from; the names are those of the CLI flags.

    Attributes:
        urls: a list file (ImageNet ``id<TAB>url``, one URL per line, or CSV ``url,label``).
        format: "auto" (CSV by suffix, ImageNet if the first line has a TAB), or one of FORMATS.
        wnid: synset ids to gather from an ImageNet list or the API (empty: the whole list).
        words: ``words.txt`` (``wnid<TAB>names``) to name synset folders.
        is_a: ``wordnet.is_a.txt`` (``parent child``) for ``subset`` with a list file.
        subset: also gather every hyponym of each wnid.
        flat: hyponym folders side by side instead of nested under their parent's.
        label: the folder of a plain list (and of CSV rows without a label).
        url_column, label_column: the CSV columns, by header name or 0-based index (str or
            int); None: the first of URL_COLUMNS / LABEL_COLUMNS in a header row, else 0 / 1.
        api: base URL of the ImageNet text API (or a mirror), used instead of ``urls``.
        shard: (k, n) with 1 <= k <= n: keep the URLs whose hash falls in part k of n.
    """

    urls: "str | None" = None
    format: str = "auto"
    wnid: tuple = ()
    words: "str | None" = None
    is_a: "str | None" = None
    subset: bool = False
    flat: bool = False
    label: "str | None" = None
    url_column: "str | int | None" = None
    label_column: "str | int | None" = None
    api: "str | None" = None
    shard: "tuple | None" = None


@dataclasses.dataclass
class SourceStats:
    """What reading a source found besides URLs."""

    lines: int = 0
    bad_lines: int = 0
    bad_examples: list = dataclasses.field(default_factory=list)  # "file:line: text"
    other_shard: int = 0

    def bad(self, where, raw, reason=None):
        self.bad_lines += 1
        if len(self.bad_examples) < _MAX_EXAMPLES:
            note = f" ({reason})" if reason else ""
            self.bad_examples.append(f"{where}: {raw[:120]!r}{note}")


class Source:
    """An iterable of Items plus what is known before reading it.

    Attributes:
        stats (SourceStats): filled while iterating.
        labels (tuple or None): every folder the source can yield, when known in advance
            (ImageNet with wnids), so that ``--limit`` can stop reading early.
        description (str): for the report.
    """

    def __init__(self, items, stats, labels, description):
        self._items, self.stats, self.labels, self.description = items, stats, labels, description

    def __iter__(self):
        return iter(self._items)


def open_source(opts):
    """Plan the folders and return a :class:`Source` streaming the Items of ``opts``.

    Raises:
        GatherError: no list or API given, an unreadable file, a bad shard or wnid, an API
            that does not answer.
    """
    _check(opts)
    stats = SourceStats()
    if opts.api:
        api = ApiCatalog(opts.api)
        plan = plan_synsets(opts.wnid, api.children, api.names, opts.subset, opts.flat)
        items = _sharded(iter_api(api, plan), opts.shard, stats)
        return Source(items, stats, tuple(plan.values()), f"ImageNet API {opts.api}")
    path = Path(opts.urls)
    fmt = detect_format(path) if opts.format == "auto" else opts.format
    if fmt != "csv" and (opts.url_column, opts.label_column) != (None, None):
        raise GatherError(f"--url-column and --label-column are for CSV lists; {path} is read "
                          f"as {fmt} (--format csv reads it as CSV)")
    if fmt == "imagenet":
        plan = None
        if opts.wnid:
            files = FileCatalog(opts.words, opts.is_a)
            plan = plan_synsets(opts.wnid, files.children, files.names, opts.subset, opts.flat)
        words = None if plan is not None else FileCatalog(opts.words, None)
        items = iter_imagenet(path, plan, words, stats)
        labels = None if plan is None else tuple(plan.values())
    elif fmt == "csv":
        items, labels = iter_csv(path, _csv_columns(path, opts), opts.label, stats), None
    else:
        folder = safe_folder(opts.label or "")
        items, labels = iter_plain(path, folder, stats), (folder,)
    return Source(_sharded(items, opts.shard, stats), stats, labels, f"{fmt} list {path}")


def _check(opts):
    if opts.format not in FORMATS:
        raise GatherError(f"format={opts.format!r}: use one of {FORMATS}")
    if bool(opts.urls) == bool(opts.api):
        raise GatherError("give either a URL list (--urls FILE) or the ImageNet API (--api BASE)")
    if opts.api and not opts.wnid:
        raise GatherError("--api needs at least one --wnid (e.g. --wnid n02121808)")
    for wnid in opts.wnid:
        if not WNID.match(wnid):
            raise GatherError(f"--wnid {wnid!r}: expected 'n' and 8 digits, e.g. n02121808")
    if opts.subset and opts.urls and not opts.is_a:
        raise GatherError("--subset with a URL list needs --is-a wordnet.is_a.txt "
                          "(parent child lines) to find the hyponyms")
    if opts.shard is not None:
        k, n = opts.shard
        if not 1 <= k <= n:
            raise GatherError(f"--shard {k}/{n}: K must be between 1 and N, e.g. 1/{max(n, 2)}")
    for name in ("urls", "words", "is_a"):
        value = getattr(opts, name)
        if value and not Path(value).is_file():
            raise GatherError(f"--{name.replace('_', '-')} {value}: no such file")


def detect_format(path):
    """"csv" for a .csv file, "imagenet" if the first data line has a TAB, else "plain"."""
    if path.suffix.lower() == ".csv":
        return "csv"
    for _, raw in _lines(path, SourceStats()):
        line = raw.strip()
        if line and not line.startswith(b"#"):
            return "imagenet" if b"\t" in line else "plain"
    return "plain"


def in_shard(url, shard):
    """True if ``url`` belongs to shard (k, n): a stable hash of the URL, so machines agree."""
    k, n = shard
    digest = hashlib.sha1(url.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


def _sharded(items, shard, stats):
    for item in items:
        if shard is None or in_shard(item.url, shard):
            yield item
        else:
            stats.other_shard += 1


def decode_url(raw):
    """List bytes -> URL text; bytes that are not UTF-8 become %XX (the same request)."""
    text = raw.decode("utf-8", "surrogateescape")
    return _SURROGATES.sub(lambda m: "".join(f"%{ord(c) - 0xDC00:02X}" for c in m.group()), text)


# ------------------------------------------------------------------ list files
def _lines(path, stats):
    """(line number, bytes) of each line of ``path``, the first one without a BOM.

    A line longer than MAX_LINE_BYTES is counted as a bad line and skipped without reading it
    into memory whole.
    """
    with open(path, "rb") as f:
        for lineno, raw in enumerate(iter(lambda: f.readline(MAX_LINE_BYTES + 1), b""), 1):
            if lineno == 1:
                raw = raw.removeprefix(_BOM)
            if len(raw) <= MAX_LINE_BYTES:
                yield lineno, raw
                continue
            stats.lines += 1
            stats.bad(f"{path}:{lineno}", raw, f"longer than {MAX_LINE_BYTES} bytes")
            while raw and not raw.endswith(b"\n"):
                raw = f.readline(1 << 16)


def iter_imagenet(path, plan, words, stats):
    """Stream ``id<TAB>url`` lines (split at the first TAB; URLs may hold spaces).

    Args:
        path (Path): e.g. ``fall11_urls.txt``.
        plan (dict or None): wnid -> folder; lines of other synsets are skipped.
            None gathers every synset, each into a folder named by ``words``.
        words (FileCatalog or None): names the folders when ``plan`` is None.
        stats (SourceStats): counts lines and bad lines.

    Yields:
        Item: with ``id`` the ImageNet image id.
    """
    wanted = None if plan is None else {w.encode(): folder for w, folder in plan.items()}
    folders, used = {}, set()
    for lineno, raw in _lines(path, stats):
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        stats.lines += 1
        key, tab, url = line.partition(b"\t")
        key, url = key.strip(), url.strip()
        if not tab or not key or not url:
            stats.bad(f"{path}:{lineno}", raw)
            continue
        wnid = key.split(b"_", 1)[0]
        if wanted is not None:
            folder = wanted.get(wnid)
            if folder is None:
                continue
        else:
            folder = folders.get(wnid) or _unplanned_folder(wnid, words, folders, used)
        yield Item(decode_url(url), as_text(key), folder)


def _unplanned_folder(wnid, words, folders, used):
    """Folder of a synset met in a list gathered whole; a repeated name gets its wnid."""
    text = as_text(wnid)
    name = safe_component(words.name(text) if words else text)
    if name.lower() in used:
        name = f"{name}_{safe_component(text)}"
    used.add(name.lower())
    folders[wnid] = name
    return name


def iter_plain(path, folder, stats):
    """Stream a list with one URL per line (blank lines and ``#`` comments skipped)."""
    for _, raw in _lines(path, stats):
        line = raw.strip()
        if line and not line.startswith(b"#"):
            stats.lines += 1
            yield Item(decode_url(line), None, folder)


class _Columns(NamedTuple):
    """Where a CSV's fields are: 0-based column indices (None: absent), the header's line."""

    url: int
    label: "int | None"
    id: "int | None"
    header: "int | None"


def iter_csv(path, columns, default_label, stats):
    """Stream a CSV's rows as Items, one row a line (``columns``: see :func:`_csv_columns`).

    Rows without a URL, and lines that do not parse alone (a quote left open, text after a
    closing quote, a bare CR), are bad lines; rows without a label go to ``default_label``
    (or the top folder).
    """
    for lineno, row in _csv_rows(path, stats):
        if lineno == columns.header:
            continue
        stats.lines += 1
        url, label, key = (_cell(row, i) for i in columns[:3])
        if not url:
            stats.bad(f"{path}:{lineno}", ",".join(row), "no URL")
            continue
        yield Item(url, key or None, safe_folder(label or default_label or ""))


def _cell(row, index):
    return row[index].strip() if index is not None and index < len(row) else ""


def _csv_rows(path, stats):
    """(line number, cells) of each non-blank line of a CSV that parses as one row."""
    for lineno, raw in _lines(path, stats):
        try:
            row = next(csv.reader((decode_url(raw),), strict=True), [])
        except csv.Error as e:
            stats.lines += 1
            stats.bad(f"{path}:{lineno}", raw, e)
            continue
        if any(cell.strip() for cell in row):
            yield lineno, row


def _csv_columns(path, opts):
    """The _Columns of the CSV at ``path``, from its first row and ``opts``' column flags.

    The first row is a header when it holds no URL (``://``) and names a column: one of
    URL_COLUMNS, LABEL_COLUMNS or ID_COLUMNS, or a name given as ``--url-column`` or
    ``--label-column``.  Without a header, the URL is column 0 and the label column 1.
    Logs a warning when there is no label column.

    Raises:
        GatherError: a column flag that names no column, or a header without a URL column.
    """
    lineno, first = next(_csv_rows(path, SourceStats()), (None, []))
    names = [_column_name(cell) for cell in first]
    given = {_column_name(v) for v in (opts.url_column, opts.label_column) if v is not None}
    header = not any("://" in cell for cell in first) and any(
        n in given or n in URL_COLUMNS + LABEL_COLUMNS + ID_COLUMNS for n in names)
    where = (path, first, names, header)
    url = _column(where, "--url-column", opts.url_column, URL_COLUMNS, 0)
    label = _column(where, "--label-column", opts.label_column, LABEL_COLUMNS,
                    1 if len(first) > 1 else None)
    if url is None:
        raise GatherError(f"{path}: its header ({', '.join(first)}) has no URL column "
                          f"({', '.join(URL_COLUMNS)}); name it with --url-column NAME or INDEX")
    if label is None and first:
        _log.warning("%s: no label column (%s): every image goes to %s; name the column with "
                     "--label-column NAME or INDEX", path, ", ".join(LABEL_COLUMNS),
                     f"--label {opts.label}" if opts.label else "the top of --out")
    key = _column(where, None, None, ID_COLUMNS, None)
    return _Columns(url, label, key, lineno if header else None)


def _column_name(value):
    return str(value).strip().lower().replace(" ", "_").replace("-", "_")


def _column(where, flag, value, known, fallback):
    """The index of a column: ``value`` (a name or index) if given, else a known header name."""
    path, first, names, header = where
    if value is None:
        return next((names.index(n) for n in known if n in names), None) if header else fallback
    if str(value).strip().isdigit():
        if int(value) < len(first):
            return int(value)
        raise GatherError(f"{path}: {flag} {value}: its first row has {len(first)} columns "
                          f"(0 to {len(first) - 1})")
    if _column_name(value) in names:
        return names.index(_column_name(value))
    raise GatherError(f"{path}: {flag} {value}: no such column in its first row "
                      f"({', '.join(first)}); give a header name or a 0-based index")
