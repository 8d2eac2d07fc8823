"""CSV URL lists: one row a line, a header found by its column names, Excel's BOM dropped.

The first row is a header when it holds no URL and names a column (URL_COLUMNS,
LABEL_COLUMNS, ID_COLUMNS, or a name given as ``--url-column``/``--label-column``); without
one, the URL is column 0 and the label column 1. A line that does not parse alone is a bad
line, never part of the next row.
"""

import csv
import logging
from typing import NamedTuple

from mlimages.gather.lines import decode_url, read_lines
from mlimages.gather.names import safe_folder
from mlimages.gather.records import GatherError, Item

# CSV header names (compared lower-case, spaces and "-" as "_"), the first one found wins.
URL_COLUMNS = ("url", "image_url", "img_url", "imageurl", "photo_url", "image", "img", "photo",
               "link", "uri", "src")
LABEL_COLUMNS = ("label", "class", "class_name", "category", "name", "tag", "synset", "wnid")
ID_COLUMNS = ("id", "image_id", "key")
_log = logging.getLogger("mlimages.gather.sources")


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
    for lineno, raw in read_lines(path, stats):
        try:
            row = next(csv.reader((decode_url(raw),), strict=True), [])
        except csv.Error as e:
            if stats is not None:
                stats.lines += 1
                stats.bad(f"{path}:{lineno}", raw, e)
            continue
        if any(cell.strip() for cell in row):
            yield lineno, row


def csv_columns(path, opts):
    """The _Columns of the CSV at ``path``, from its first row and ``opts``' column flags.

    The first row is a header when it holds no URL (``://``) and names a column: one of
    URL_COLUMNS, LABEL_COLUMNS or ID_COLUMNS, or a name given as ``--url-column`` or
    ``--label-column``.  Without a header, the URL is column 0 and the label column 1.
    Logs a warning when there is no label column.

    Raises:
        GatherError: a column flag that names no column, or a header without a URL column.
    """
    lineno, first = next(_csv_rows(path, None), (None, []))
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
