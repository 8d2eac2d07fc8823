"""Worker processes for the batch loader: each worker thread drives one child process.

Why processes: Pillow parses a JPEG's headers in Python, under the GIL, so on 2 cores two
threads decoded 256x256 JPEGs 1.46x slower than two processes (benchmarks/RESULTS.md). Each
batch array lives in anonymous shared memory (``memfd_create``), passed to the children as a
file descriptor; a child reads its images (decoding them, or from the cache file it maps
itself) and writes each one, preprocessed by the same function the threads use, straight into
the batch. Nothing is copied back; only the plan and the failures are pickled.

Deadlines: the child writes which item it is on, and since when, into a shared array; the
thread copies them into its :class:`~mlimages.loader.threads.Job` for the pool's watchdog. A
worker retired as stalled has its child killed (and waited for) before the job is failed, so
a batch is never written after it gave up on that job. A child that dies (a decoder crash)
fails the item it was on as ``crashed``; the thread starts a fresh child for its next job.
"""

import mmap
import os
import select
import signal
import threading
import time
import weakref
from multiprocessing import reduction

import numpy

from mlimages._fs import pool_context
from mlimages.image import ImageError
from mlimages.loader.cache import Reader
from mlimages.loader.threads import Stalled, _Worker
from mlimages.loader.transforms import crop_into, place

_POLL = 0.2  # seconds between the thread's looks at its child's progress
_KILL_WAIT = 5.0  # seconds to wait for a killed child


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


class SharedBuffer:
    """Anonymous shared memory (``memfd_create``) for one batch, reused batch after batch.

    ``users`` counts what may still touch it: the array handed out (let go when the last
    view of it is garbage-collected) and each job (let go once settled: its child replied or
    is dead). At 0 it goes back to its pool, so a batch the consumer still holds is never
    overwritten, and a reused buffer costs no page faults (a fresh one costs one per page).
    """

    def __init__(self, pool, key, nbytes):
        self.pool, self.key, self.nbytes = pool, key, nbytes
        self.fd = os.memfd_create("mlimages-batch", os.MFD_CLOEXEC)
        try:
            os.ftruncate(self.fd, nbytes)
            self.map = mmap.mmap(self.fd, nbytes)
        except BaseException:
            os.close(self.fd)
            raise
        self.users = 0

    def array(self, shape, dtype):
        """A new array over the buffer (its users count it until it is collected)."""
        flat = numpy.frombuffer(self.map, dtype, int(numpy.prod(shape)))
        self.hold()
        weakref.finalize(flat, self.release)
        return flat.reshape(shape)

    def hold(self):
        with self.pool.lock:
            self.users += 1

    def release(self):
        with self.pool.lock:
            self.users -= 1
            if self.users == 0:
                self.pool.give_back(self)

    def destroy(self):
        # Not map.close(): the finalizer runs while the dying array still exports the map;
        # the mapping goes with the last reference.
        self.map = None
        os.close(self.fd)


class BufferPool:
    """The :class:`SharedBuffer` objects of one loader, ``nbytes`` each; keeps ``keep`` free
    ones (more are destroyed, and the children told to unmap them)."""

    def __init__(self, nbytes, keep):
        self.nbytes, self.keep, self.lock = nbytes, keep, threading.Lock()
        self.free, self.forgotten, self._made, self.closed = [], set(), 0, False

    def acquire(self):
        with self.lock:
            if self.free:
                return self.free.pop()
            self._made += 1
            key = self._made
        return SharedBuffer(self, key, self.nbytes)

    def give_back(self, buffer):
        """Called with ``lock`` held."""
        if len(self.free) < self.keep and not self.closed:
            self.free.append(buffer)
        else:
            self.forgotten.add(buffer.key)
            buffer.destroy()

    def close(self):
        with self.lock:
            self.closed = True
            free, self.free = self.free, []
        for buffer in free:
            buffer.destroy()


def available():
    """Whether worker processes can share batches here (Linux: ``memfd_create``)."""
    return hasattr(os, "memfd_create")


class ProcessWorker(_Worker):
    """A worker thread that hands its jobs' reading to its own child process.

    ``child_args`` (reader_args, mean, crop) start the child (:func:`_child_main`); the child is
    started with the first job and again after it was killed or died.
    """

    def __init__(self, jobs, prefix, child_args):
        super().__init__(jobs, prefix)
        self.child_args, self.child, self.conn, self.progress = child_args, None, None, None
        self.poller = None  # select.poll over the child's pipe and its sentinel
        self._child_lock = threading.Lock()

    def _spawn(self):
        self.mapped = set()  # keys of the buffers the child has mapped
        ctx = pool_context()
        self.progress = ctx.RawArray("d", 2)
        self.conn, theirs = ctx.Pipe()
        child = ctx.Process(target=_child_main, name=f"{self.name}-child", daemon=True,
                            args=(theirs, self.progress) + tuple(self.child_args))
        try:
            child.start()
        finally:
            theirs.close()
        self.child = child  # only once started: _kill() needs a started process
        # One poll object per child: Connection.poll() and Process.is_alive() build a
        # selector on every call, two or more a job: a quarter of the worker threads' CPU
        # time (benchmarks/RESULTS.md, 2026-12-03 07:26).
        self.poller = select.poll()
        for fd in (self.conn.fileno(), child.sentinel):
            self.poller.register(fd, select.POLLIN)

    def call(self, job, buffer, shape, dtype, items):
        """Have the child read ``items`` ((slot, index, top, left, flip)) into ``buffer`` (a
        :class:`SharedBuffer` seen as ``shape``, ``dtype``) and preprocess them there.

        Returns:
            list: (slot, index, (reason, detail)) of the items it could not read.

        Raises:
            Stalled: the worker was retired as stalled meanwhile (the child is dead).
            Crashed: the child died.
        """
        if self.child is not None and self._polled(0):
            # Between jobs nothing is due from the child: its pipe or sentinel is readable
            # only once it has died (the OOM killer?). Start a fresh one.
            self._kill()
        if self.child is None:
            self._spawn()
        first = buffer.key not in self.mapped
        forget = self.mapped & buffer.pool.forgotten
        self.mapped -= forget
        # The item's clock starts when the child starts it (not while a new child imports).
        try:
            self.conn.send((buffer.key, buffer.nbytes if first else None, shape,
                            numpy.dtype(dtype).str, items, forget))
            if first:
                reduction.send_handle(self.conn, buffer.fd, self.child.pid)
                self.mapped.add(buffer.key)
        except OSError:
            raise Crashed(0, self._kill()) from None
        while not self._polled(_POLL):
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

    def _polled(self, seconds):
        """Whether the child's reply (or its end) is there, after waiting up to ``seconds``.
        A pipe closed meanwhile by retire() (the watchdog's thread) reads as ready (POLLNVAL):
        recv() then fails, and call() sees the worker retired."""
        return bool(self.poller.poll(seconds * 1000))

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


def _child_main(conn, progress, reader_args, mean, crop):
    """The child: fill each job's items of its batch until told to stop (None or EOF)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    reader, maps = Reader.open(*reader_args), {}
    while True:
        try:
            message = conn.recv()
            if message is None:
                return
            key, nbytes, shape, dtype, items, forget = message
            if nbytes is not None:
                fd = reduction.recv_handle(conn)
                maps[key] = mmap.mmap(fd, nbytes)
                os.close(fd)
        except (EOFError, OSError):
            return
        for gone in forget:
            maps.pop(gone, None)
        try:
            batch = numpy.frombuffer(maps[key], dtype, int(numpy.prod(shape))).reshape(shape)
            failed = _read_items(reader, batch, items, progress, mean, crop)
            del batch
            conn.send(("ok", failed))
        except Exception as ex:  # noqa: BLE001 (handed to the parent, which re-raises it)
            conn.send(("error", ex))


def _read_items(reader, x, items, progress, mean, crop):
    """Read and write each (slot, index, top, left, flip) into ``x``: the uint8 crop, or
    with a float32 ``x`` the preprocessed example; returns the failures."""
    failed = []
    for k, (slot, index, top, left, flip) in enumerate(items):
        progress[0], progress[1] = k, time.monotonic()
        try:
            chw = reader.read(index)
        except ImageError as ex:
            failed.append((slot, index, (ex.reason, ex.detail)))
            continue
        if x.dtype == numpy.uint8:
            crop_into(x[slot], chw, top, left, flip, crop)
        else:
            place(x[slot], chw, mean, top, left, flip, crop)
    progress[1] = 0.0
    return failed
