"""Large scratch arrays kept between training steps instead of allocated afresh.

A fresh array of hundreds of MB (AlexNet's conv2 columns at batch 32: 224 MB) costs more to
fault in page by page than to fill: on the 2-core machine, allocating and writing 224 MB took
155 ms where rewriting a kept buffer took 18-44 ms.  The functions ``take`` their scratch
arrays (columns, their gradient, LRN's intermediates) and ``give`` them back when they are
done, so from the second step on they reuse the same memory.  Arrays handed to Chainer as
outputs are never taken from here: Chainer decides when those die.
"""

import threading

import numpy

_FREE = {}
_LOCK = threading.Lock()
KEEP = 2  # buffers kept per (purpose, shape, dtype): a step needs one, a retry another


def take(purpose, shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``, reused when one was given back.

    ``purpose`` keeps apart buffers whose untouched parts matter (a zero-padded input's
    border stays zero because only its interior is ever written)."""
    key = (purpose, tuple(shape), numpy.dtype(dtype).str)
    with _LOCK:
        free = _FREE.get(key)
        if free:
            return free.pop()
    if purpose.startswith("zero"):
        return numpy.zeros(shape, dtype)
    return numpy.empty(shape, dtype)


def give(purpose, array):
    """Hand ``array`` (from ``take``, no longer used by anyone) back for reuse."""
    if array is None:
        return
    key = (purpose, array.shape, array.dtype.str)
    with _LOCK:
        free = _FREE.setdefault(key, [])
        if len(free) < KEEP:
            free.append(array)


def clear():
    """Drop every kept buffer (their memory goes back to the allocator)."""
    with _LOCK:
        _FREE.clear()
