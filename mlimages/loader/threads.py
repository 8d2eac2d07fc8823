"""Worker threads for the batch loader: a job queue, per-item deadlines, stalled workers replaced.

Why not ``concurrent.futures.ThreadPoolExecutor``: its threads are joined when the interpreter
exits, so one thread stuck in a read (a dead network mount, a FIFO) hangs the program at exit,
and it has no way to retire a stuck thread. Here the threads are daemons, and a job whose
current item runs past its deadline is failed with :class:`Stalled` and its thread retired
(it exits whenever its read returns) while a fresh thread takes its place.

A job is a callable ``run(job)``: it calls ``job.progress(k)`` before its k-th item, which
starts that item's clock. Threads (not processes) because Pillow and NumPy release the GIL
while decoding, resizing and converting (the measurements: benchmarks/RESULTS.md).
"""

import itertools
import logging
import queue
import threading
import time
from concurrent.futures import Future, InvalidStateError

from mlimages.errors import MlimagesError

log = logging.getLogger("mlimages.loader")
_names = itertools.count()


class Stalled(MlimagesError):
    """A job's item ran past the deadline; ``item`` is its position in the job."""

    reason = "stalled"

    def __init__(self, item, seconds):
        self.item, self.seconds = item, seconds
        super().__init__(f"item {item} of the job gave no result after {seconds:.0f} s")

    @property
    def detail(self):
        return f"no result after {self.seconds:.0f} s"


class Job:
    """One unit of work: ``run(job)`` and the Future that receives its result.

    ``lock`` and ``abandoned`` let the job refuse to write its output once it was given up:
    take the lock, check ``abandoned``, then write.
    """

    def __init__(self, run):
        self.run, self.future = run, Future()
        self.lock, self.abandoned = threading.Lock(), False
        self.item, self.item_started = 0, None
        self.worker = None  # the _Worker running it (a process worker's child lives there)

    def progress(self, item):
        self.item, self.item_started = item, time.monotonic()

    def abandon(self, seconds):
        with self.lock:
            self.abandoned = True
        _settle(self.future, exception=Stalled(self.item, seconds))


def _settle(future, result=None, exception=None):
    try:
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass  # already failed as stalled, or cancelled


class _Worker(threading.Thread):
    def __init__(self, jobs, prefix):
        super().__init__(name=f"{prefix}-{next(_names)}", daemon=True)
        self.jobs, self.job, self.retired = jobs, None, False

    def run(self):
        while not self.retired:
            job = self.jobs.get()
            if job is None:
                break
            if not job.future.set_running_or_notify_cancel():
                continue
            self.job, job.worker = job, self
            try:
                _settle(job.future, result=job.run(job))
            except BaseException as ex:  # handed to the waiting coroutine, which re-raises it
                _settle(job.future, exception=ex)
            self.job = None
        self.stopped()

    def stopped(self):
        """Called by the thread as it ends (a subclass stops what it owns)."""

    def retire(self):
        """Give up on this thread (stalled): it leaves once its current read returns."""
        self.retired = True

class WorkerPool:
    """``threads`` daemon threads running :class:`Job` objects in submission order."""

    def __init__(self, threads, prefix="mlimages-loader", worker_class=_Worker):
        self._jobs, self._prefix, self._lock = queue.SimpleQueue(), prefix, threading.Lock()
        self._worker_class = worker_class
        self._workers = [self._start() for _ in range(threads)]
        self.replaced = 0

    def _start(self):
        worker = self._worker_class(self._jobs, self._prefix)
        worker.start()
        return worker

    def submit(self, run):
        """Queue ``run(job)``; returns its :class:`concurrent.futures.Future`."""
        job = Job(run)
        self._jobs.put(job)
        return job.future

    def check_deadlines(self, timeout):
        """Fail and replace every job whose current item has run for more than ``timeout`` s."""
        now = time.monotonic()
        with self._lock:
            for k, worker in enumerate(self._workers):
                job = worker.job
                if job is None or job.item_started is None or now - job.item_started <= timeout:
                    continue
                worker.retire()
                self._workers[k] = self._start()
                self.replaced += 1
                log.warning("worker %s stalled for %.0f s; replaced it", worker.name,
                            now - job.item_started)
                job.abandon(now - job.item_started)

    def shutdown(self, wait=5.0):
        """Stop every thread (after its current job); waits up to ``wait`` s for them in total.

        Retired (stalled) threads are not waited for: they are daemons, blocked in a read,
        and exit when it returns.
        """
        with self._lock:
            workers, self._workers = self._workers, []
        while True:  # jobs not started yet are dropped, not run
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.future.cancel()
        for worker in workers:
            self._jobs.put(None)
            worker.retire()  # leaves after its current job (a process worker: at once)
        deadline = time.monotonic() + wait
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        return workers
