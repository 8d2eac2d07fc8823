"""Channels-last storage behind Chainer's channels-first shapes, and the batch split over threads.

The fast CPU functions compute in NHWC (channels last: an im2col row is then one contiguous
run, and the convolution is one GEMM with no transpose copy).  They hand Chainer arrays whose
*shape* is NCHW but whose *memory* is NHWC (a transposed view), so the next fast function
reads them back as NHWC for free, and NumPy's element-wise functions (ReLU, its gradient)
keep that memory order.  Any other consumer sees an ordinary NCHW array.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy

_POOL = {}


def to_nhwc(x):
    """(B, C, H, W) array of any memory order -> C-contiguous (B, H, W, C) (a view when the
    memory already is NHWC, a copy otherwise)."""
    return numpy.ascontiguousarray(x.transpose(0, 2, 3, 1))


def to_nchw(y):
    """(B, H, W, C) array -> a (B, C, H, W) view of the same memory (no copy)."""
    return y.transpose(0, 3, 1, 2)


def _blas():
    """threadpoolctl's controller of NumPy's BLAS (None when there is none), found once."""
    if "blas" not in _POOL:
        from threadpoolctl import ThreadpoolController
        found = ThreadpoolController().select(user_api="blas").lib_controllers
        _POOL["blas"] = found[0] if found else None
    return _POOL["blas"]


def threads():
    """How many threads split the element-wise work: as many as the BLAS uses now (so a
    ``threadpool_limits``, as ``--distributed`` sets per rank, holds for these passes too),
    at most the usable cores, at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    blas = _blas()
    return max(1, min(cores, blas.num_threads if blas is not None else cores))


def over_batch(work, batch):
    """Run ``work(start, stop)`` on slices of ``range(batch)``, one per thread.

    NumPy releases the GIL inside copies and ufuncs on large arrays, so the element-wise
    passes (im2col, col2im, pooling, LRN) use every core, as the BLAS GEMMs already do.
    ``work`` must touch only its own slice of the batch.
    """
    count = min(threads(), batch)
    if count < 2:
        work(0, batch)
        return
    bounds = [batch * i // count for i in range(count + 1)]
    pool = _POOL.get(count)
    if pool is None:
        pool = _POOL[count] = ThreadPoolExecutor(count, thread_name_prefix="mlimages-cpu")
    futures = [pool.submit(work, a, b) for a, b in zip(bounds, bounds[1:])]
    for future in futures:
        future.result()
