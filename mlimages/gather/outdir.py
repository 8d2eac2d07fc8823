"""The output folder of a gather run: lock, manifest, summary and crash-safe image files.

::

    OUT/
      manifest.jsonl     one JSON line per URL, appended as results arrive
      summary.json       counts of the last run and of the whole manifest
      gather.log         the CLI's log (one line per failure)
      .gather.lock       held (flock) while a run writes OUT; stale after a crash is harmless
      .gather-tmp/       files being written; emptied by the next run, removed at the end
      <label>/<name>     the kept images

An image is written under ``.gather-tmp/`` and renamed into place, so a kill at any moment
leaves no partial file under a final name; its manifest line is appended after the rename, so
a line with status ``ok`` always names a complete file.  Lines are written with one ``write``
each; a line cut short by a crash, or one that is not a well-typed record, is skipped (counted
as unreadable) and a cut last line is dropped when the next run opens the manifest.

A link planted in ``OUT`` is a :class:`GatherError` naming it, never a write outside ``OUT``
(the checks on disk: ``names.py``).
"""

import dataclasses
import fcntl
import hashlib
import itertools
import json
import os
import shutil
from collections import Counter
from pathlib import Path

from mlimages._fs import atomic_write_text
from mlimages.gather.names import FILE, FOLDER, lkind, make_out, open_own, require
from mlimages.gather.records import GatherError, Record

MANIFEST = "manifest.jsonl"
SUMMARY = "summary.json"
LOG = "gather.log"
LOCK = ".gather.lock"
TMP = ".gather-tmp"
# A manifest line's fields and their JSON types (written by Record.as_dict).
_FIELDS = {"url": str, "id": (str, type(None)), "label": str, "status": str, "reason": str,
           "bytes": int, "path": (str, type(None)), "sha1": (str, type(None)),
           "elapsed": (int, float)}


def record_key(label, url):
    """A compact 64-bit key for (label, url): resume state stays small for huge manifests."""
    digest = hashlib.blake2b(f"{label}\n{url}".encode("utf-8", "surrogateescape"), digest_size=8)
    return int.from_bytes(digest.digest(), "big")


def parse_line(raw):
    """One manifest line as a :class:`Record`, or None if it cannot be one.

    None for a line cut by a crash, one that is not a JSON object, or one whose ``url``,
    ``label`` or ``status`` is missing or any field is of the wrong type (``"path": 5``).
    """
    try:
        rec = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(rec, dict) or not {"url", "label", "status"} <= rec.keys():
        return None
    fields = {"id": None} | {k: v for k, v in rec.items() if k in _FIELDS}
    if not all(isinstance(v, _FIELDS[k]) for k, v in fields.items()):
        return None
    return Record(**fields)


@dataclasses.dataclass
class Past:
    """What the manifest says earlier runs did.

    Attributes:
        status (dict): record_key -> last status.
        ok_per_label (Counter): label -> images kept.
        kept_sha1 (dict): sha1 -> path of a kept image (for --dedupe).
        kept_paths (list): (path, url) of every kept image (their names are taken).
        bad_lines (int): manifest lines that could not be read (skipped).
    """

    status: dict = dataclasses.field(default_factory=dict)
    ok_per_label: Counter = dataclasses.field(default_factory=Counter)
    kept_sha1: dict = dataclasses.field(default_factory=dict)
    kept_paths: list = dataclasses.field(default_factory=list)
    bad_lines: int = 0


class OutDir:
    """Holds ``--out`` for one run: ``with OutDir(path) as out: ...``.

    Raises:
        GatherError: on entry, if another run holds the folder, it cannot be created, or one
            of gather's own names in it is a link or of the wrong kind (nothing is written
            then); from :meth:`commit`, if a folder on the way to an image is not a real one.
    """

    def __init__(self, root):
        self.root = Path(root)
        self.manifest = self.root / MANIFEST
        self.summary = self.root / SUMMARY
        self.tmp = self.root / TMP
        self._lock_fd = self._manifest_fd = None
        self._made = {self.root}          # folders known to be real folders
        self._serial = itertools.count()  # temp file names

    def __enter__(self):
        make_out(self.root)
        self._lock_fd = self._lock()
        try:
            require(self.summary, FILE)
            self._reset_tmp()
            self._manifest_fd = open_own(self.manifest, os.O_RDWR | os.O_APPEND | os.O_CREAT)
            _drop_partial_last_line(self._manifest_fd)
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, *exc):
        os.fsync(self._manifest_fd)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._close()

    def _close(self):
        for fd in (self._manifest_fd, self._lock_fd):  # the lock last: closing releases it
            if fd is not None:
                os.close(fd)
        self._manifest_fd = self._lock_fd = None

    def _lock(self):
        fd = open_own(self.root / LOCK, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise GatherError(f"{self.root} is being written by another gather run "
                              f"({_describe(owner)}); wait for it to end or choose another "
                              "--out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    def _reset_tmp(self):
        """Empty ``.gather-tmp`` of a killed run's leftovers (it must be a real folder)."""
        require(self.tmp, FOLDER)
        shutil.rmtree(self.tmp, ignore_errors=True)
        try:
            self.tmp.mkdir(exist_ok=True)
        except OSError as e:
            raise GatherError(f"cannot create {self.tmp}: {e.strerror}") from None

    def load(self):
        """Read the manifest of earlier runs into a :class:`Past` (last line per URL wins)."""
        past = Past()
        with os.fdopen(os.dup(self._manifest_fd), "rb") as f:
            f.seek(0)
            for raw in f:
                rec = parse_line(raw)
                if rec is None:
                    past.bad_lines += 1
                    continue
                past.status[record_key(rec.label, rec.url)] = rec.status
                if rec.status == "ok" and rec.path:
                    past.ok_per_label[rec.label] += 1
                    past.kept_paths.append((rec.path, rec.url))
                    if rec.sha1:
                        past.kept_sha1.setdefault(rec.sha1, rec.path)
        return past

    def append(self, record):
        """Append one :class:`~mlimages.gather.records.Record` as a JSON line (one write)."""
        os.write(self._manifest_fd, _line(record))

    def rewrite(self, records):
        """Replace the manifest with the lines of ``records`` in one rename: a crash leaves
        the old manifest or the new one, never a mix."""
        tmp = self._tmp_name()
        with open(tmp, "xb") as f:
            for record in records:
                f.write(_line(record))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.manifest)
        os.close(self._manifest_fd)
        self._manifest_fd = open_own(self.manifest, os.O_RDWR | os.O_APPEND)

    def stage(self, data):
        """Write ``data`` to a new temporary file under ``OUT/.gather-tmp``; returns its path."""
        tmp = self._tmp_name()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except BaseException:  # e.g. a full disk: no partial file left behind
            os.close(fd)
            self.discard(tmp)
            raise
        os.close(fd)
        return tmp

    def stage_file(self, src, link=False):
        """Stage a copy of the file ``src`` (a hard link when ``link`` and the file system
        allows one); returns its temporary path."""
        tmp = self._tmp_name()
        if link:
            try:
                os.link(src, tmp, follow_symlinks=False)
                return tmp
            except OSError:
                pass  # another file system, or no hard links there: copy
        shutil.copyfile(src, tmp, follow_symlinks=False)
        return tmp

    def _tmp_name(self):
        return f"{self.tmp}/{next(self._serial)}.part"

    def commit(self, tmp, relpath):
        """Move a staged file to ``OUT/relpath`` in one rename (no partial file is ever seen).

        No fsync: a kill cannot lose written data, only a power cut can (see README).

        Raises:
            GatherError: a folder on the way is a link or not a folder (nothing is moved).
        """
        dest = self.root / relpath
        if dest.parent not in self._made:
            self._make_folders(dest.parent)
        os.replace(tmp, dest)
        return dest

    def _make_folders(self, folder):
        """Create ``folder`` under ``OUT`` one level at a time, refusing links and files."""
        path = self.root
        for part in folder.relative_to(self.root).parts:
            path = path / part
            if path not in self._made:
                if lkind(path) is None:
                    path.mkdir()
                require(path, FOLDER)
                self._made.add(path)

    @staticmethod
    def discard(tmp):
        Path(tmp).unlink(missing_ok=True)

    def write_summary(self, summary):
        atomic_write_text(self.summary, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")


def _line(record):
    line = json.dumps(record.as_dict(), ensure_ascii=False) + "\n"
    return line.encode("utf-8", "surrogateescape")


def _describe(owner):
    """The lock's owner for the error message: a pid, and whether it still runs."""
    if not owner.isdigit():
        return f"pid {owner}"
    try:
        os.kill(int(owner), 0)
    except ProcessLookupError:
        return f"pid {owner} has ended, but a process it started still holds the lock"
    except OSError:
        pass  # alive, but another user's
    return f"pid {owner}"


def _drop_partial_last_line(fd):
    """Cut a manifest line that a crash left without its newline."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    step = min(size, 1 << 16)
    while True:
        chunk = os.pread(fd, step, size - step)
        cut = chunk.rfind(b"\n")
        if cut >= 0 or step == size:
            os.ftruncate(fd, size - step + cut + 1)
            return
        step = min(size, step * 2)
