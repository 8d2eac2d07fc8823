"""The batch loader's background half: an asyncio event loop that assembles batches.

:class:`Engine` runs an event loop in its own thread. For each batch the consumer has
planned (:class:`Plan`: which images, where to crop, whether to flip), a coroutine splits
the batch into jobs for the worker threads (:mod:`mlimages.loader.threads`; see
:meth:`Engine._parts`); each job reads its images (from the cache or decoded by
:func:`mlimages.image.open_image`) and writes them, preprocessed, straight into the batch
array. Unreadable or stalled images come back as values, are recorded once, and their slots
are refilled with replacements drawn from the seed, so a batch is always full and the same
for the same seed. The coroutine's result is a :class:`Batch`; the consumer waits for it
through a ``concurrent.futures.Future``.
"""

import asyncio
import functools
import logging
import os
import threading
from typing import NamedTuple

import numpy

from mlimages.loader.procs import BufferPool, ProcessWorker
from mlimages.loader.threads import Stalled, WorkerPool
from mlimages.image import ImageError
from mlimages.loader.transforms import crop_into, place, replacement
from mlimages.errors import MlimagesError

log = logging.getLogger("mlimages.loader")
_MAX_SKIPPED = 1000      # draws of known-bad images for one slot before giving up
_SKIP_STRIDE = 1_000_003  # keeps the draws after a skip apart from the tried ones


class LoaderError(MlimagesError, ValueError):
    """The loader cannot be built as asked, or too many images in a row cannot be read."""


class Failure(NamedTuple):
    """An image the loader skipped: its path (root joined) and why ("slug: detail")."""

    path: str
    reason: str


class Batch(NamedTuple):
    """One mini-batch: ``x`` float32 (B, C, crop, crop), ``t`` int32 (B,)."""

    x: numpy.ndarray
    t: numpy.ndarray


class Plan(NamedTuple):
    """A batch decided by the consumer thread: which images, where to crop, the next state."""

    epoch: int
    position: int
    indices: numpy.ndarray
    crops: tuple  # transforms.CropParams: tops, lefts, flips
    next_epoch: int
    next_position: int


class Record:
    """Images found unreadable: index → reason, and the :class:`Failure` list."""

    def __init__(self):
        self.bad, self.failures = {}, []


class Engine:
    """The background half: an event loop thread, the worker pool, the reader.

    It holds no reference to the :class:`BatchLoader`, so a loader nobody uses is
    garbage-collected (and finalized) even while the engine runs.
    """

    def __init__(self, reader, labels, mean, crop, opts, workers, seed, record, child=None):
        """``child``: None (threads read), or the :meth:`Reader.open` arguments with which
        worker processes read, straight into batches in shared memory."""
        self.reader, self.labels, self.mean, self.crop = reader, labels, mean, crop
        self.opts, self.workers, self.seed, self.record = opts, workers, seed, record
        self.dtype = numpy.uint8 if opts.normalize == "device" else numpy.float32
        self.remote, self.buffers = child is not None, None
        if child is None:
            self.pool = WorkerPool(workers)
        else:
            reader_args, batch_size = child
            nbytes = batch_size * len(mean) * crop * crop * numpy.dtype(self.dtype).itemsize
            self.buffers = BufferPool(nbytes, keep=opts.prefetch + 2)
            self.pool = WorkerPool(workers, worker_class=functools.partial(
                ProcessWorker, child_args=(reader_args, mean, crop)))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="mlimages-loader-loop",
                                       daemon=True)
        self.thread.start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._watchdog)
        self.loop.run_forever()
        tasks = asyncio.all_tasks(self.loop)
        for task in tasks:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self.loop.close()

    def _watchdog(self):
        self.pool.check_deadlines(self.opts.item_timeout)
        self.loop.call_later(min(1.0, self.opts.item_timeout / 4), self._watchdog)

    def submit(self, plan):
        """Start loading ``plan``; returns a concurrent.futures.Future of its :class:`Batch`."""
        return asyncio.run_coroutine_threadsafe(self._load(plan), self.loop)

    async def _load(self, plan):
        count = len(plan.indices)
        shape = (count, len(self.mean)) + (self.crop,) * 2
        shared = self.buffers.acquire() if self.remote else None
        x = numpy.empty(shape, self.dtype) if shared is None else shared.array(shape, self.dtype)
        t = numpy.empty(count, numpy.int32)
        attempts = [0] * count
        try:
            todo = list(enumerate(plan.indices.tolist()))
            if self.record.bad:
                todo = [self._usable(plan, slot, i, attempts) for slot, i in todo]
            while todo:
                parts = self._parts(todo)
                jobs = [asyncio.wrap_future(self._submit(x, t, plan, part, shared))
                        for part in parts]
                results = await asyncio.gather(*jobs, return_exceptions=True)
                todo = []
                for part, result in zip(parts, results):
                    todo.extend(self._redo(plan, part, result, attempts, self.remote))
        finally:
            del shared  # x holds the buffer now (and each job until settled)
        return Batch(x, t)

    def _parts(self, todo):
        """``todo`` split into jobs: one per worker thread; with worker processes only into as
        many as keep every worker busy while ``prefetch`` batches are in flight (whenever
        ``prefetch`` >= the workers, as with the default 8: the whole batch is one job), since
        each job costs messages."""
        parts = self.workers
        if self.remote:
            parts = -(-self.workers // self.opts.prefetch)
        parts = min(parts, len(todo))
        return [todo[k::parts] for k in range(parts)]

    def _submit(self, x, t, plan, part, shared):
        if shared is None:
            return self.pool.submit(functools.partial(self._fill, x, t, plan, part))
        shared.hold()  # let go once the job is settled: its child has replied or is dead
        future = self.pool.submit(functools.partial(self._fill_remote, t, plan, part, shared))
        future.add_done_callback(lambda _: shared.release())
        return future

    def _redo(self, plan, part, result, attempts, remote):
        """The (slot, index) pairs of ``part`` to load again after the job's ``result``."""
        if isinstance(result, Stalled):
            slot, index = part[result.item]
            self._fail(index, result.reason, result.detail)
            # A thread placed the items before the stalled one; a child's work is finished
            # by its thread only once the child replies, so those are read again.
            redo = part[:result.item] if remote else []
            return redo + [self._usable(plan, slot, index, attempts)] + part[result.item + 1:]
        if isinstance(result, BaseException):
            raise result
        redo = []
        for slot, index, reason in result:
            self._fail(index, *reason)
            redo.append(self._usable(plan, slot, index, attempts))
        return redo

    def _fill(self, x, t, plan, part, job):
        """Worker thread: read and place each (slot, index) of ``part``; returns failures."""
        failed, crops = [], plan.crops
        for k, (slot, index) in enumerate(part):
            job.progress(k)
            try:
                chw = self.reader.read(index)
            except ImageError as ex:
                failed.append((slot, index, (ex.reason, ex.detail)))
                continue
            with job.lock:
                if job.abandoned:  # given up as stalled: x may belong to a later batch now
                    break
                if self.dtype is numpy.uint8:
                    crop_into(x[slot], chw, crops.tops[slot], crops.lefts[slot],
                              crops.flips[slot], self.crop)
                else:
                    place(x[slot], chw, self.mean, crops.tops[slot], crops.lefts[slot],
                          crops.flips[slot], self.crop)
                t[slot] = self.labels[index]
        return failed

    def _fill_remote(self, t, plan, part, shared, job):
        """Worker thread: its child reads and preprocesses ``part`` into the shared batch;
        the thread fills ``t``; returns the failures."""
        crops = plan.crops
        tops, lefts, flips = crops.tops.tolist(), crops.lefts.tolist(), crops.flips.tolist()
        items = [(slot, index, tops[slot], lefts[slot], flips[slot]) for slot, index in part]
        failed = job.worker.call(job, shared, t.shape + self.mean.shape[:1] + (self.crop,) * 2,
                                 self.dtype, items)
        bad = {slot for slot, _, _ in failed}
        with job.lock:
            if not job.abandoned:
                for slot, index in part:
                    if slot not in bad:
                        t[slot] = self.labels[index]
        return failed

    def _fail(self, index, reason, detail=""):
        bad = self.record.bad
        if index in bad:
            return
        bad[index] = reason
        path = os.path.join(self.reader.root, self.reader.entries[index].path)
        self.record.failures.append(Failure(path, f"{reason}: {detail}" if detail else reason))
        log.warning("skipping %s: %s%s; replaced by another image (%d skipped so far)",
                    path, reason, f" ({detail})" if detail else "", len(bad))

    def _usable(self, plan, slot, index, attempts):
        """(slot, index), or (slot, a replacement) while ``index`` is known to be unreadable."""
        count = len(self.labels)
        if index in self.record.bad:
            # Only images actually tried count as unreadable replacements: a draw that lands
            # on an image already known to be bad is skipped, not tried (which of the list's
            # images are known bad by now depends on which thread finished first).
            attempts[slot] += 1
        skipped = 0
        while index in self.record.bad:
            if len(self.record.bad) >= count:
                raise LoaderError(f"none of the {count} images of the list can be read "
                                  f"(e.g. {self.record.failures[0].path}: "
                                  f"{self.record.failures[0].reason}); check the root folder")
            if attempts[slot] > self.opts.max_replacements or skipped > _MAX_SKIPPED:
                raise LoaderError(
                    f"{self.opts.max_replacements} replacement images in a row were unreadable "
                    f"({len(self.record.bad)} of {count} so far, last: "
                    f"{self.record.failures[-1].path}: {self.record.failures[-1].reason}); "
                    "check the list and the root folder")
            draw = attempts[slot] + skipped * _SKIP_STRIDE
            index = replacement(self.seed, plan, slot, draw, count)
            skipped += 1
        return slot, index

    def close(self):
        """Stop the loop (cancelling every batch in flight) and the workers; idempotent."""
        if self.loop.is_closed() or not self.thread.is_alive():
            self._stop()
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self._stop()

    def _stop(self):
        self.pool.shutdown()
        if self.buffers is not None:
            self.buffers.close()  # the free ones; those in use go when their arrays do
