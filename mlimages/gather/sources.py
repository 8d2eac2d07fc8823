"""URL sources: ImageNet URL lists, plain lists, CSV files and the ImageNet text API.

Every source is a stream of :class:`~mlimages.gather.records.Item` values; list files are read
line by line as bytes (a UTF-8 byte-order mark dropped, memory flat whatever their length,
non-UTF-8 lines tolerated) and lines that do not parse, or are longer than MAX_LINE_BYTES, are
counted in :class:`SourceStats`, never fatal.  A CSV line is one row: a quote left open makes
that line bad, never the rows after it part of it.  The ImageNet sources first *plan* the
synsets' folders (:mod:`mlimages.gather.imagenet`).
"""

import dataclasses
import hashlib
import logging
from pathlib import Path

from mlimages.gather.imagenet import (WNID, ApiCatalog, FileCatalog, as_text, iter_api,
                                      plan_synsets)
from mlimages.gather.csvlist import csv_columns, iter_csv
from mlimages.gather.lines import decode_url, read_lines
from mlimages.gather.names import safe_component, safe_folder
from mlimages.gather.records import GatherError, Item

FORMATS = ("auto", "imagenet", "plain", "csv")
DEFAULT_API = "http://www.image-net.org/api/text/"
_MAX_EXAMPLES = 5
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


def open_source(opts, limits=None):
    """Plan the folders and return a :class:`Source` streaming the Items of ``opts``.

    ``limits`` (a GatherOptions, or None for its defaults) gives the ImageNet API's requests
    the run's total deadline (``timeout``), byte cap (``max_bytes``) and ``proxy``.

    Raises:
        GatherError: no list or API given, an unreadable file, a bad shard or wnid, an API
            that does not answer.
    """
    _check(opts)
    stats = SourceStats()
    if opts.api:
        api = (ApiCatalog(opts.api) if limits is None else
               ApiCatalog(opts.api, timeout=limits.timeout, max_bytes=limits.max_bytes,
                          proxy=limits.proxy))
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
        items, labels = iter_csv(path, csv_columns(path, opts), opts.label, stats), None
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
    for _, raw in read_lines(path):
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


# ------------------------------------------------------------------ list files
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
    for lineno, raw in read_lines(path, stats):
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
    for _, raw in read_lines(path, stats):
        line = raw.strip()
        if line and not line.startswith(b"#"):
            stats.lines += 1
            yield Item(decode_url(line), None, folder)


