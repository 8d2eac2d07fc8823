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
each; a line cut short by a crash is dropped when the next run opens the manifest.
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
from mlimages.gather.records import GatherError

MANIFEST = "manifest.jsonl"
SUMMARY = "summary.json"
LOCK = ".gather.lock"
TMP = ".gather-tmp"


def record_key(label, url):
    """A compact 64-bit key for (label, url): resume state stays small for huge manifests."""
    digest = hashlib.blake2b(f"{label}\n{url}".encode("utf-8", "surrogateescape"), digest_size=8)
    return int.from_bytes(digest.digest(), "big")


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
        GatherError: on entry, if another run holds the folder or it cannot be created.
    """

    def __init__(self, root):
        self.root = Path(root)
        self.manifest = self.root / MANIFEST
        self.summary = self.root / SUMMARY
        self.tmp = self.root / TMP
        self._lock_fd = self._manifest_fd = None
        self._made = set()                # folders known to exist
        self._serial = itertools.count()  # temp file names

    def __enter__(self):
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise GatherError(f"cannot create --out {self.root}: {e.strerror}") from None
        self._lock()
        shutil.rmtree(self.tmp, ignore_errors=True)  # leftovers of a killed run
        self.tmp.mkdir()
        _drop_partial_last_line(self.manifest)
        self._manifest_fd = os.open(self.manifest, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return self

    def __exit__(self, *exc):
        os.fsync(self._manifest_fd)
        os.close(self._manifest_fd)
        shutil.rmtree(self.tmp, ignore_errors=True)
        os.close(self._lock_fd)  # releases the flock

    def _lock(self):
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise GatherError(f"{self.root} is being written by another gather run (pid "
                              f"{owner}); wait for it to end or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def load(self):
        """Read the manifest of earlier runs into a :class:`Past` (last line per URL wins)."""
        past = Past()
        if not self.manifest.exists():
            return past
        with open(self.manifest, "rb") as f:
            for raw in f:
                try:
                    rec = json.loads(raw)
                    key = record_key(rec["label"], rec["url"])
                    status = rec["status"]
                except (ValueError, KeyError, TypeError):
                    past.bad_lines += 1
                    continue
                past.status[key] = status
                if status == "ok" and rec.get("path"):
                    past.ok_per_label[rec["label"]] += 1
                    past.kept_paths.append((rec["path"], rec["url"]))
                    if rec.get("sha1"):
                        past.kept_sha1.setdefault(rec["sha1"], rec["path"])
        return past

    def append(self, record):
        """Append one :class:`~mlimages.gather.records.Record` as a JSON line (one write)."""
        line = json.dumps(record.as_dict(), ensure_ascii=False) + "\n"
        os.write(self._manifest_fd, line.encode("utf-8", "surrogateescape"))

    def stage(self, data):
        """Write ``data`` to a new temporary file under ``OUT/.gather-tmp``; returns its path."""
        tmp = f"{self.tmp}/{next(self._serial)}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        return tmp

    def commit(self, tmp, relpath):
        """Move a staged file to ``OUT/relpath`` in one rename (no partial file is ever seen).

        No fsync: a kill cannot lose written data, only a power cut can (see README)."""
        dest = self.root / relpath
        if dest.parent not in self._made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(dest.parent)
        os.replace(tmp, dest)
        return dest

    @staticmethod
    def discard(tmp):
        Path(tmp).unlink(missing_ok=True)

    def write_summary(self, summary):
        atomic_write_text(self.summary, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")


def _drop_partial_last_line(path):
    """Cut a manifest line that a crash left without its newline."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        size = f.seek(0, os.SEEK_END)
        step = min(size, 1 << 16)
        while True:
            f.seek(size - step)
            chunk = f.read(step)
            cut = chunk.rfind(b"\n")
            if cut >= 0 or step == size:
                f.truncate(size - step + cut + 1)
                return
            step = min(size, step * 2)
