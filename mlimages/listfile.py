"""Read and write ``path label`` list files and ``label_def.txt``.

This is the one list reader for every stage (label, mean, loader, train).
The format is the one of Caffe's ImageDataLayer and Chainer's
``LabeledImageDataset`` / ``examples/imagenet``::

    cat/0001.jpg 0
    dog/0002.jpg 1

* the label is the *last* whitespace-separated field, so a path may contain
  spaces (Chainer's and Caffe's own readers split on any whitespace and so
  cannot read such a line: ``mlimages label`` warns when it writes one);
* backslash paths written on Windows (``tabby\\51879196_5a4404873a.jpg 10``)
  are read with ``/`` separators;
* blank lines and lines starting with ``#`` are skipped;
* any other malformed line is an error that names the file and line number;
* a leading UTF-8 byte-order mark (Windows editors, Excel) is dropped.

The writer makes lines this reader cannot mistake: a path that starts with ``#`` or with
whitespace is written as ``./#tag/x.jpg``, and a path the reader could not give back (a line
break, a backslash, trailing whitespace) is refused (:func:`unlistable` says why).
Paths are read as written: absolute ones and ones with ``..`` lead outside the image root
(as in Chainer); :func:`rewrite_prefix` moves a list made on another machine.

``label_def.txt`` holds ``index name`` lines, indices 0..N-1 in order.
"""

import posixpath
from pathlib import Path
from typing import NamedTuple

from mlimages._fs import atomic_write_text
from mlimages.errors import MlimagesError


class ListFileError(MlimagesError, ValueError):
    """A list or label definition file that cannot be read as such."""


class Entry(NamedTuple):
    """One line of a list file: a path (relative to the image root) and a label."""
    path: str
    label: int


def parse_line(line, source="<list>", lineno=0):
    """Parse one list line; return an :class:`Entry` or ``None`` to skip it."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    fields = text.rsplit(None, 1)
    if len(fields) != 2:
        raise ListFileError(
            f"{source}:{lineno}: expected 'path label', got {text!r} "
            "(a label is missing?)")
    path, label = fields[0].strip(), fields[1]
    try:
        value = int(label)
    except ValueError:
        raise ListFileError(
            f"{source}:{lineno}: the label {label!r} is not an integer "
            f"in {text!r}") from None
    if value < 0:
        raise ListFileError(f"{source}:{lineno}: negative label {value} in {text!r}")
    return Entry(path.replace("\\", "/"), value)


def iter_list(path):
    """Yield the :class:`Entry` of each line of list file ``path``."""
    path = Path(path)
    try:
        f = open(path, encoding="utf-8-sig", errors="surrogateescape")
    except OSError as e:
        raise ListFileError(f"cannot read list file {path}: {e.strerror}") from None
    with f:
        for lineno, line in enumerate(f, 1):
            entry = parse_line(line, str(path), lineno)
            if entry is not None:
                yield entry


def read_list(path):
    """Read list file ``path`` into a list of :class:`Entry`."""
    return list(iter_list(path))


def unlistable(path):
    """Why ``path`` (POSIX separators) cannot be a list entry, or None when it can.

    A line break would end the line; the reader turns a backslash into ``/`` and drops
    trailing whitespace, so such a path would come back as another file.
    """
    if "\n" in path or "\r" in path:
        return "a line break in the name"
    if "\\" in path:
        return "a backslash in the name"
    if path != path.rstrip():
        return "whitespace at the end of the name"
    return None


def format_path(path):
    """The text of ``path`` in a list line, or ListFileError when the reader would misread it.

    POSIX separators; ``./`` before a path starting with ``#`` (else a comment) or whitespace.
    """
    text = Path(path).as_posix()
    problem = unlistable(text)
    if problem:
        raise ListFileError(f"cannot list {text!r}: {problem}, which list files cannot hold; "
                            "rename the file")
    return "./" + text if text[:1] == "#" or text[:1].isspace() else text


def format_list(entries):
    """Return the text of a list file for ``entries`` (see :func:`format_path`)."""
    return "".join(f"{format_path(p)} {int(t)}\n" for p, t in entries)


def write_list(path, entries, append=False):
    """Atomically write ``entries`` (pairs of path and label) to ``path``.

    With ``append=True`` the existing lines are kept and the new ones follow. Raises
    ListFileError, writing nothing, when a path cannot be listed (:func:`format_path`).
    """
    path = Path(path)
    text = format_list(entries)
    head = ""
    if append and path.exists():
        head = path.read_text(encoding="utf-8", errors="surrogateescape")
        if head and not head.endswith("\n"):
            head += "\n"
    return atomic_write_text(path, head + text)


def parse_prefix_rule(text):
    """Split an ``OLD=NEW`` prefix rule (a flag's value) at its first ``=``.

    Returns:
        (str, str): OLD (not empty) and NEW (may be empty: the paths become relative).
    """
    old, sep, new = text.partition("=")
    if not sep or not old:
        raise ListFileError(f"prefix rule {text!r}: expected OLD=NEW, e.g. "
                            "/data/images=/mnt/images (NEW may be empty)")
    return old, new


def rewrite_prefix(entries, old, new):
    """Replace the leading folder ``old`` of entry paths by ``new`` (lists from elsewhere).

    ``old`` matches whole path components (``/data/a`` matches ``/data/a/x.jpg``, not
    ``/data/ab/x.jpg``); ``\\`` in ``old`` or ``new`` counts as ``/``, as in the reader;
    an empty ``new`` leaves the rest relative. Other entries are returned unchanged.

    Returns:
        list of Entry, in the order of ``entries``.
    """
    old = old.replace("\\", "/").rstrip("/") or "/"
    new = new.replace("\\", "/")
    return [Entry(_moved(path, old, new) or path, label) for path, label in entries]


def _moved(path, old, new):
    """``path`` with its leading folder ``old`` replaced by ``new``, or None if not under it."""
    if old == "/" and path.startswith("/"):
        rest = path[1:]
    elif old != "/" and (path == old or path.startswith(old + "/")):
        rest = path[len(old) + 1:]
    else:
        return None
    return posixpath.join(new, rest) if rest else (new.rstrip("/") or new or ".")


def read_label_def(path):
    """Read ``label_def.txt`` (``index name`` lines) into a list of names."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig", errors="surrogateescape").splitlines()
    except OSError as e:
        raise ListFileError(f"cannot read label definitions {path}: {e.strerror}") from None
    names = []
    for lineno, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        index, _, name = text.partition(" ")
        if not index.isdigit() or not name.strip():
            raise ListFileError(f"{path}:{lineno}: expected 'index name', got {text!r}")
        if int(index) != len(names):
            raise ListFileError(
                f"{path}:{lineno}: index {index} out of order (expected {len(names)})")
        names.append(name.strip())
    return names


def write_label_def(path, names):
    """Atomically write ``label_def.txt`` for class ``names`` (index = position).

    Raises ListFileError, writing nothing, for a name that would not stay on its line.
    """
    for name in names:
        if len(f"{name}.".splitlines()) != 1:
            raise ListFileError(f"cannot write class name {name!r} to label_def.txt: a line "
                                "break in the name; rename the class folder")
    return atomic_write_text(path, "".join(f"{i} {n}\n" for i, n in enumerate(names)))
