"""``--work DIR``: the ranks' shards, gathered on node-local disks, copied to rank 0 over MPI.

When OUT is not on a file system every node sees, rank r gathers into ``WORK/<r>/`` on its own
node; once every rank is done, rank 0 copies each shard into ``OUT/.shards/<r>/`` (a mirror),
one rank after the other, and merges the mirrors.  A mirror is brought up to date, not
rewritten: rank 0 receives the shard's manifest, asks only for the kept images the mirror
lacks (an image's path names one URL's file for good), writes each under its final name in
one rename, and replaces the mirror's manifest last.  A job run again resumes each shard in
``WORK/<r>/`` and ships only the images that are new.

The protocol, rank 0 <-> rank r: ``WANT`` -> the manifest in ``CHUNK`` messages (an empty one
ends it); then ``NEED`` lists of paths -> one ``FILES`` message of [(path, bytes)] for each;
an empty ``NEED`` ends it.  Rank r waits for ``WANT`` by polling (the other ranks may still be
shipping), then, with the transfer under way, with MPI's blocking receive.  Rank 0's own
shard is hard-linked (or copied) from ``WORK/0/``.
"""

import os
import stat

from mlimages.gather.names import inside
from mlimages.gather.outdir import MANIFEST, OutDir, parse_line
from mlimages.gather.records import GatherError
from mlimages.gather.relay import wait_for

WANT, CHUNK, NEED, FILES = 21, 22, 23, 24  # message tags
_CHUNK_BYTES = 1 << 22
_BATCH = 64  # paths per NEED: a few MB a message


def serve(comm, folder):
    """Rank r (not 0): answer rank 0's requests for this rank's shard ``folder``."""
    wait_for(comm, 0, WANT)
    with open(folder / MANIFEST, "rb") as f:
        while chunk := f.read(_CHUNK_BYTES):
            comm.send(chunk, dest=0, tag=CHUNK)
    comm.send(b"", dest=0, tag=CHUNK)
    while paths := comm.recv(source=0, tag=NEED):
        comm.send([(path, read_image(folder, path)) for path in paths], dest=0, tag=FILES)


def read_image(folder, relpath):
    """The bytes of a kept image of the shard ``folder``: a regular file, no link on the way
    (``O_NOFOLLOW`` on the file; the folders are gather's own)."""
    if not inside(folder, relpath):
        raise GatherError(f"{folder}: its manifest names {relpath!r}, outside the folder")
    try:
        fd = os.open(folder / relpath, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        raise GatherError(f"{folder / relpath}: {e.strerror}; the shard's manifest keeps it: "
                          "delete its line from the manifest and run the job again") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise GatherError(f"{folder / relpath}: not a regular file")
        return f.read()


def collect(comm, own, mirrors):
    """Rank 0: bring ``mirrors[r]`` (``OUT/.shards/<r>``) up to date with every rank's shard.

    Args:
        comm: the world communicator.
        own (Path): rank 0's shard folder (``WORK/0``).
        mirrors (list of Path): one per rank, in rank order.
    """
    for rank, mirror in enumerate(mirrors):
        with OutDir(mirror) as out:
            if rank == 0:
                _update(out, _Local(own))
            else:
                _update(out, _Remote(comm, rank))


def _update(out, shard):
    """Receive ``shard``'s manifest, fetch the images ``out`` lacks, then the manifest."""
    manifest = out.stage(b"")
    with open(manifest, "ab") as f:
        for chunk in shard.manifest():
            f.write(chunk)
    missing = []
    with open(manifest, "rb") as f:
        for raw in f:
            rec = parse_line(raw)
            if rec is not None and rec.status == "ok" and rec.path and not _present(out, rec):
                missing.append(rec.path)
    for start in range(0, len(missing), _BATCH):
        shard.fetch(out, missing[start:start + _BATCH])
    shard.fetch(out, [])  # the end
    with open(manifest, "rb") as f:
        out.rewrite(rec for rec in map(parse_line, f) if rec is not None)


def _present(out, rec):
    if not inside(out.root, rec.path):
        raise GatherError(f"a shard's manifest names {rec.path!r}, outside {out.root}")
    try:
        return stat.S_ISREG(os.lstat(out.root / rec.path).st_mode)
    except OSError:
        return False


class _Local:
    """Rank 0's own shard, on its own disk: hard links where possible."""

    def __init__(self, folder):
        self.folder = folder

    def manifest(self):
        with open(self.folder / MANIFEST, "rb") as f:
            while chunk := f.read(_CHUNK_BYTES):
                yield chunk

    def fetch(self, out, paths):
        for path in paths:  # a link is linked as a link: the merge's checks refuse it
            out.commit(out.stage_file(self.folder / path, link=True), path)


class _Remote:
    """Rank r's shard, over MPI (rank r runs :func:`serve`)."""

    def __init__(self, comm, rank):
        self.comm, self.rank = comm, rank

    def manifest(self):
        self.comm.send(None, dest=self.rank, tag=WANT)
        while chunk := self.comm.recv(source=self.rank, tag=CHUNK):
            yield chunk

    def fetch(self, out, paths):
        self.comm.send(paths, dest=self.rank, tag=NEED)
        if paths:
            for path, data in self.comm.recv(source=self.rank, tag=FILES):
                out.commit(out.stage(data), path)
