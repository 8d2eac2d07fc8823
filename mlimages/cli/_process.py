"""The process-wide state a command runs under, set only here (never in the library).

* :func:`outputs_may_break`: ``sys.stdout``/``sys.stderr`` whose reader may go away;
* :func:`termination_interrupts`: SIGTERM and SIGHUP do what Ctrl-C does;
* :func:`start_pool_server`: the process pools' server started early, its imports done;
* :func:`end_process`: the end of a command's process without the interpreter's teardown.
"""

import atexit
import contextlib
import errno
import os
import signal
import sys
import threading


class _MayBreak:
    """A text stream (``sys.stdout``, ``sys.stderr``) whose reader may go away: after the
    first write that fails with EPIPE or EIO (``| tee log`` killed by the Ctrl-C that also
    stops a training run; a closed terminal) everything is written to /dev/null instead, so
    that the command finishes its work (a training run its snapshot and model.npz)."""

    def __init__(self, stream):
        self._stream, self.broken = stream, False

    def write(self, text):
        if not self.broken:
            try:
                return self._stream.write(text)
            except OSError as e:
                self._break(e)
        return len(text)

    def flush(self):
        if not self.broken:
            try:
                self._stream.flush()
            except OSError as e:
                self._break(e)

    def _break(self, error):
        if error.errno not in (errno.EPIPE, errno.EIO):
            raise error
        self.broken = True
        try:  # the interpreter's flush at exit then writes to /dev/null too
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def outputs_may_break():
    """``sys.stdout`` and ``sys.stderr`` as :class:`_MayBreak` streams while a command runs."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _MayBreak(sys.stdout), _MayBreak(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def termination_interrupts():
    """While it is entered, SIGTERM and SIGHUP do what SIGINT does; yields the list their
    numbers go to, and puts the previous handlers back on exit.

    SIGINT's handler at the time of the signal runs: a KeyboardInterrupt, or, while
    ``asyncio.run`` runs (gather), the cancellation that lets the run settle.  A signal this
    process was started with ignored stays ignored; outside the main thread nothing changes.
    """
    received, previous = [], {}

    def interrupt(signum, frame):
        received.append(signum)
        on_sigint = signal.getsignal(signal.SIGINT)
        if not callable(on_sigint):  # SIGINT ignored (a background job): interrupt anyway
            raise KeyboardInterrupt
        on_sigint(signal.SIGINT, frame)

    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
                previous[signum] = signal.signal(signum, interrupt)
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def start_pool_server(modules):
    """Start the server that forks every process-pool worker (``_fs.pool_context``: the
    forkserver) now, with ``modules`` imported in it, and return at once.

    A worker forked from it starts with those modules (NumPy, Pillow, the stage) loaded,
    where it would otherwise import them when its first task arrives; started before the
    command parses its arguments, the server imports them on another core while this
    process imports its own (benchmarks/RESULTS.md). Where forkserver is not the pools'
    context (spawn), or a server is running already, nothing changes.

    The server looks the modules up where this process does: it gets this process's
    ``sys.path`` as its PYTHONPATH, and no first entry of its own (PYTHONSAFEPATH). Before
    CPython 3.12.8 and 3.13.1 it ignores the path it is handed (python/cpython#117378) and,
    started with ``python -c``, would search its current folder first, where another copy of
    a module can lie (a checkout of mlimages). Its workers inherit those two variables.
    """
    from multiprocessing import forkserver

    from mlimages._fs import environment, pool_context
    if pool_context().get_start_method() != "forkserver":
        return
    forkserver.set_forkserver_preload(["__main__", *modules])
    path = (os.path.abspath(entry or os.curdir) for entry in sys.path)
    with environment(PYTHONPATH=os.pathsep.join(p for p in path if os.pathsep not in p),
                     PYTHONSAFEPATH="1"):
        forkserver.ensure_running()


def end_process(status):
    """End this process with ``status`` as the interpreter would, less its teardown (freeing
    every module and object: ~0.1 s after a gather, benchmarks/RESULTS.md): the ``atexit``
    functions run (logging's flush and close, multiprocessing's, ``weakref.finalize``), the
    standard streams are flushed, then ``os._exit``.

    Only where nothing else needs the teardown (:func:`may_end_early`); otherwise it is
    ``sys.exit(status)``.
    """
    if not may_end_early():
        sys.exit(status)
    atexit._run_exitfuncs()  # what Py_Finalize runs first (CPython's own helper)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone: there is nothing left to tell it
            pass
    os._exit(status)


def may_end_early():
    """True unless another thread still runs (the interpreter would wait for it) or MPI was
    started (its finalization is the interpreter's: ``mpiexec`` would see a rank fail)."""
    return threading.active_count() == 1 and "mpi4py.MPI" not in sys.modules
