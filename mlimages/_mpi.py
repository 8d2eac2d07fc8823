"""MPI for the commands that run as ranks of ``mpiexec`` (``gather`` and ``train --distributed``).

What both need and nothing else (no Chainer, no NumPy): the world communicator, with an error
saying what to install when mpi4py is missing, and :func:`abort_on_error`, which turns an
exception on one rank into ``MPI_Abort`` (the other ranks would otherwise wait for it for ever)
after printing the rank and the reason.
"""

import contextlib
import sys
import time

from mlimages.errors import MlimagesError

FORWARD_SECONDS = 1.0  # before MPI_Abort: time for mpiexec to forward the error line
INSTALL = "pip install mpi4py mpich (or, in this repository, pip install -e '.[mpi]')"


class DistributedError(MlimagesError, RuntimeError):
    """MPI (or ChainerMN) cannot be used; the message says what to install or how to launch."""


def world(command):
    """``MPI.COMM_WORLD`` for ``mlimages <command> --distributed``.

    Raises:
        DistributedError: mpi4py is not installed.
    """
    try:
        from mpi4py import MPI
    except ImportError:
        raise DistributedError(f"--distributed needs MPI: {INSTALL}, then launch with "
                               f"mpiexec -n N mlimages {command} ... --distributed") from None
    return MPI.COMM_WORLD


@contextlib.contextmanager
def abort_on_error(comm, command):
    """Any exception in the block ends every rank (``MPI_Abort``) instead of a hang.

    The error is printed first, with the rank, so that the job's output says why it stopped.

    Args:
        comm: an mpi4py communicator, or None (a single process: the exception propagates).
        command (str): "train", "gather": names the command in the printed line.
    """
    try:
        yield
    except BaseException as e:
        if comm is None or comm.Get_size() == 1:
            raise
        print(f"mlimages {command}: rank {comm.Get_rank()} of {comm.Get_size()} failed: "
              f"{_reason(e)}; stopping every rank", file=sys.stderr, flush=True)
        # mpiexec forwards each rank's output through its own process; an abort at once can
        # end the job before this rank's line got there (seen under load), and then the job's
        # output would not say why it stopped.
        time.sleep(FORWARD_SECONDS)
        comm.Abort(1)


def _reason(e):
    if isinstance(e, KeyboardInterrupt):  # the CLI turns SIGTERM and SIGHUP into it too
        return "KeyboardInterrupt (Ctrl-C, SIGTERM or SIGHUP)"
    return f"{type(e).__name__}: {e}"
