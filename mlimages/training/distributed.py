"""``mlimages train --distributed``: data-parallel training over MPI with ChainerMN.

Launched as ``mpiexec -n N mlimages train ... --distributed``: every process (rank) runs the
same :func:`mlimages.training.run.train`, which asks this module for

* a communicator (:func:`communicator`): ``pure_nccl`` when training on GPUs (one process per
  GPU, the GPU numbered by the rank within its node), ``naive`` on the CPU;
* its part of each list (:func:`scatter_list`): rank 0 reads the list, ChainerMN's
  ``scatter_dataset`` shuffles it and sends each rank an equal share (padded with repeats so
  that every rank runs the same number of iterations: the allreduce of every step needs all
  of them); each rank's share is written as a list file for its own BatchLoader;
* the multi-node optimizer (gradients averaged by allreduce every step, the weights
  broadcast from rank 0 at the first step); validation sums images over every rank
  (:mod:`mlimages.training.metrics`).

Only rank 0 writes logs, plots, snapshots and ``model.npz``; a resume has every rank load
rank 0's snapshot, so the output folder must be on a file system all nodes see.

A failure on one rank would leave the others waiting in the next allreduce for ever, so
:func:`abort_on_error` turns any exception into ``MPI_Abort``, which ends every rank.
"""

import contextlib
from pathlib import Path
from typing import NamedTuple

from mlimages import _mpi, listfile
from mlimages._chainer import chainer  # noqa: F401  (first: it bridges NumPy 2 for Chainer)
from mlimages._mpi import DistributedError

RANK_LISTS = ".ranks"  # under --out: each rank's part of the lists


class Ranks(NamedTuple):
    """Where this process stands: ``comm`` (a ChainerMN communicator), ``rank``, ``size``,
    ``intra_rank`` (the rank within its node: the GPU it drives)."""

    comm: object
    rank: int
    size: int
    intra_rank: int


def communicator(gpu):
    """A ChainerMN communicator for this process.

    Args:
        gpu (int): >= 0 to train on GPUs (``pure_nccl``), -1 for the CPU (``naive``).

    Returns:
        Ranks.

    Raises:
        DistributedError: mpi4py (or, on GPUs, NCCL through CuPy) is missing.
    """
    _mpi.world("train")  # mpi4py, or an error saying what to install
    import chainermn  # after mlimages._chainer (see the import above)

    try:
        comm = chainermn.create_communicator("pure_nccl" if gpu >= 0 else "naive")
    except (ImportError, RuntimeError) as e:
        raise DistributedError(f"cannot create the {'pure_nccl' if gpu >= 0 else 'naive'} "
                               f"communicator ({e}); on GPUs install CuPy with NCCL "
                               "(pip install cupy-cuda12x or cupy-cuda13x)") from None
    return Ranks(comm, comm.rank, comm.size, comm.intra_rank)


def scatter_list(ranks, list_file, out, name, seed=None, equal=True):
    """This rank's share of ``list_file``, written to ``out/.ranks/<name>.<rank>.txt``.

    Args:
        ranks (Ranks): from :func:`communicator`.
        list_file (str or Path): a ``path label`` list; read by rank 0 only.
        out (str or Path): the run's output folder.
        name (str): "train" or "val".
        seed (int or None): of the shuffle before splitting.
        equal (bool): pad the shares to one length (training needs it: every rank must run
            the same number of steps); evaluation takes unequal shares.

    Returns:
        Path: the list file of this rank's share.
    """
    import chainermn

    entries = listfile.read_list(list_file) if ranks.rank == 0 else None
    share = chainermn.scatter_dataset(entries, ranks.comm, shuffle=True, seed=seed,
                                      force_equal_length=equal)
    path = Path(out) / RANK_LISTS / f"{name}.{ranks.rank}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    listfile.write_list(path, [share[i] for i in range(len(share))])
    return path


def multi_node_optimizer(optimizer, ranks):
    import chainermn
    return chainermn.create_multi_node_optimizer(optimizer, ranks.comm)


@contextlib.contextmanager
def cpu_share(ranks, gpu):
    """On the CPU, limit this rank's BLAS threads to its share of the node's cores.

    Each process's BLAS otherwise starts one thread per core, so N ranks on a node run N times
    too many threads that spin against each other (measured: benchmarks/RESULTS.md).  The
    limit is lifted when the block ends.
    """
    if gpu >= 0:
        yield
        return
    from threadpoolctl import threadpool_limits
    import os
    share = max(1, (os.cpu_count() or 1) // ranks.comm.intra_size)
    with threadpool_limits(limits=share, user_api="blas"):
        yield


@contextlib.contextmanager
def abort_on_error(ranks):
    """Any exception on this rank ends every rank (``MPI_Abort``) instead of a hang.

    The error is printed first, with the rank (:func:`mlimages._mpi.abort_on_error`).
    """
    comm = None if ranks is None or ranks.size == 1 else ranks.comm.mpi_comm
    with _mpi.abort_on_error(comm, "train"):
        yield


class AnyRankStop:
    """A stop request seen by every rank at the same iteration.

    ``mpiexec`` forwards Ctrl-C to every rank, but each notices it at its own step; a rank
    that stopped alone would leave the others waiting in their next allreduce.  The trainer
    asks the stop trigger once per iteration on every rank, so one tiny allreduce there
    (the flag of each rank, maximum) makes them all stop after the same step.
    """

    def __init__(self, request, ranks):
        self.request, self.ranks = request, ranks

    def is_set(self):
        local = int(self.request is not None and self.request.is_set())
        return bool(self.ranks.comm.mpi_comm.allreduce(local, op=_mpi_max()))


def _mpi_max():
    from mpi4py import MPI
    return MPI.MAX
