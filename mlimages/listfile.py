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
* any other malformed line is an error that names the file and line number.

``label_def.txt`` holds ``index name`` lines, indices 0..N-1 in order.
"""

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
        f = open(path, encoding="utf-8", errors="surrogateescape")
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


def format_list(entries):
    """Return the text of a list file for ``entries`` (POSIX separators)."""
    return "".join(f"{Path(p).as_posix()} {int(t)}\n" for p, t in entries)


def write_list(path, entries, append=False):
    """Atomically write ``entries`` (pairs of path and label) to ``path``.

    With ``append=True`` the existing lines are kept and the new ones follow.
    """
    path = Path(path)
    head = ""
    if append and path.exists():
        head = path.read_text(encoding="utf-8", errors="surrogateescape")
        if head and not head.endswith("\n"):
            head += "\n"
    return atomic_write_text(path, head + format_list(entries))


def read_label_def(path):
    """Read ``label_def.txt`` (``index name`` lines) into a list of names."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
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
    """Atomically write ``label_def.txt`` for class ``names`` (index = position)."""
    return atomic_write_text(path, "".join(f"{i} {n}\n" for i, n in enumerate(names)))
