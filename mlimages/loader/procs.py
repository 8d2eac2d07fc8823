"""Worker processes for the batch loader: each worker thread drives one child process.

Why processes: Pillow parses a JPEG's headers in Python, under the GIL, so on 2 cores two
threads decoded 256x256 JPEGs 1.46x slower than two processes (benchmarks/RESULTS.md). A
child reads its images (decoding them, or from the cache file it maps itself), crops and flips
them and writes each as uint8 (C, crop, crop) into the batch's shared buffer (a file in
``/dev/shm`` that both sides map); its thread in the parent then turns those bytes into the
batch array (mean subtracted and scaled: NumPy releases the GIL). Only the plan and the
failures are pickled.

Deadlines: the child writes which item it is on, and since when, into a shared array; the
thread copies them into its :class:`~mlimages.loader.threads.Job` for the pool's watchdog. A
worker retired as stalled has its child killed (and waited for) before the job is failed, so
a buffer is never written after its batch gave up on it. A child that dies (a decoder crash)
fails the item it was on as ``crashed``; the thread starts a fresh child for its next job.
"""

import mmap
import os
import shutil
import signal
import tempfile
import threading
import time

import numpy

from mlimages._fs import pool_context
from mlimages.image import ImageError
from mlimages.loader.threads import Stalled, _Worker
from mlimages.loader.transforms import crop_into

_POLL = 0.2  # seconds between the thread's looks at its child's progress
_KILL_WAIT = 5.0  # seconds to wait for a killed child
_MAPS = 16  # buffers a child keeps mapped (the pool holds about prefetch + 1)


class Crashed(Stalled):
    """The child process died while reading item ``item`` of the job (e.g. a decoder crash)."""

    reason = "crashed"

    def __init__(self, item, exitcode):
        self.exitcode = exitcode
        super().__init__(item, 0.0)
        self.args = (f"the worker process died on item {item} (exit code {exitcode})",)

    @property
    def detail(self):
        return f"the worker process died reading it (exit code {self.exitcode})"


class Buffer:
    """A uint8 (B, C, crop, crop) batch buffer both sides map; back to the pool when unused.

    ``users`` counts who may still write it: the batch being assembled and each job sent to a
    child (a job lets go only once its child replied or is dead).
    """

    def __init__(self, path, shape, pool):
        size = int(numpy.prod(shape))
        with open(path, "w+b") as f:
            f.truncate(size)
            self._map = mmap.mmap(f.fileno(), size)
        self.array = numpy.frombuffer(self._map, numpy.uint8).reshape(shape)
        self.path, self._pool, self.users = path, pool, 1

    def hold(self):
        with self._pool.lock:
            self.users += 1

    def release(self):
        with self._pool.lock:
            self.users -= 1
            if self.users == 0:
                self.users = 1
                self._pool.free.append(self)


class BufferPool:
    """Batch buffers in a private folder of ``/dev/shm`` (the temp folder where there is none),
    removed by :meth:`close`."""

    def __init__(self, shape):
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
            else None
        self.folder = tempfile.mkdtemp(prefix="mlimages-loader-", dir=base)
        self.shape, self.lock, self.free, self._made = shape, threading.Lock(), [], 0

    def acquire(self):
        """A free buffer (its ``users`` is 1: the caller), made when none is free."""
        with self.lock:
            if self.free:
                return self.free.pop()
            self._made += 1
            path = os.path.join(self.folder, f"batch-{self._made}")
        return Buffer(path, self.shape, self)

    def close(self):
        shutil.rmtree(self.folder, ignore_errors=True)


class ProcessWorker(_Worker):
    """A worker thread that hands its jobs' reading to its own child process.

    ``child_args`` (reader_args, crop) start the child (:func:`_child_main`); the child is
    started with the first job and again after it was killed or died.
    """

    def __init__(self, jobs, prefix, child_args):
        super().__init__(jobs, prefix)
        self.child_args, self.child, self.conn, self.progress = child_args, None, None, None
        self._child_lock = threading.Lock()

    def _spawn(self):
        ctx = pool_context()
        self.progress = ctx.RawArray("d", 2)
        self.conn, theirs = ctx.Pipe()
        self.child = ctx.Process(target=_child_main, name=f"{self.name}-child", daemon=True,
                                 args=(theirs, self.progress) + tuple(self.child_args))
        self.child.start()
        theirs.close()

    def call(self, job, buffer_path, items):
        """Have the child read ``items`` ((slot, index, top, left, flip)) into the buffer.

        Returns:
            list: (slot, index, (reason, detail)) of the items it could not read.

        Raises:
            Stalled: the worker was retired as stalled meanwhile (the child is dead).
            Crashed: the child died.
        """
        if self.child is not None and not self.child.is_alive():
            self._kill()  # died between jobs (the OOM killer?): start a fresh one
        if self.child is None:
            self._spawn()
        # The item's clock starts when the child starts it (not while a new child imports).
        try:
            self.conn.send((buffer_path, items))
        except OSError:
            raise Crashed(0, self._kill()) from None
        while not self.conn.poll(_POLL):
            if self.retired or job.abandoned:
                self._kill()
                raise Stalled(job.item, 0.0)
            started = self.progress[1]
            if started:
                job.item, job.item_started = int(self.progress[0]), started
        try:
            status, value = self.conn.recv()
        except (EOFError, OSError):
            item = int(self.progress[0])
            if self.retired:  # killed by the watchdog, which fails the job as stalled
                raise Stalled(item, time.monotonic() - (job.item_started or 0.0)) from None
            raise Crashed(item, self._kill()) from None
        if status == "error":
            raise value
        return value

    def retire(self):
        """Stop the child at once (it is stuck), so it never writes again."""
        super().retire()
        self._kill()

    def _kill(self):
        """Kill the child (if any) and wait for it; returns its exit code."""
        with self._child_lock:
            child, self.child = self.child, None
            if child is None:
                return None
            child.kill()
            child.join(_KILL_WAIT)
            if self.conn is not None:
                self.conn.close()
            return child.exitcode

    def stopped(self):
        with self._child_lock:
            child, self.child = self.child, None
        if child is None:
            return
        try:
            self.conn.send(None)  # let it leave on its own; killed below if it does not
        except OSError:
            pass
        child.join(1.0)
        if child.is_alive():
            child.kill()
            child.join(_KILL_WAIT)
        self.conn.close()


def _child_main(conn, progress, reader_args, crop):
    """The child: read each job's items into its buffer until told to stop (None or EOF)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from mlimages.loader.engine import Reader
    reader, maps = Reader.open(*reader_args), {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        path, items = message
        try:
            if path not in maps:
                if len(maps) >= _MAPS:
                    del maps[next(iter(maps))]  # the oldest: its batch is long gone
                maps[path] = numpy.memmap(path, numpy.uint8, "r+")
            failed = _read_items(reader, maps[path], items, progress, crop)
            conn.send(("ok", failed))
        except Exception as ex:  # noqa: BLE001 (handed to the parent, which re-raises it)
            conn.send(("error", ex))


def _read_items(reader, flat, items, progress, crop):
    channels = reader.shape[2]
    out = flat.reshape(-1, channels, crop, crop)
    failed = []
    for k, (slot, index, top, left, flip) in enumerate(items):
        progress[0], progress[1] = k, time.monotonic()
        try:
            chw = reader.read(index)
        except ImageError as ex:
            failed.append((slot, index, (ex.reason, ex.detail)))
            continue
        crop_into(out[slot], chw, top, left, flip, crop)
    progress[1] = 0.0
    return failed
