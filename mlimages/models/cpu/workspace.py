"""Large scratch arrays kept between training steps instead of allocated afresh.

A fresh array of hundreds of MB (AlexNet's conv2 columns at batch 32: 224 MB) costs more to
fault in page by page than to fill: on the 2-core machine, allocating and writing 224 MB took
155 ms where rewriting a kept buffer took 18-44 ms.  The functions ``take`` their scratch
arrays (columns, their gradient, LRN's intermediates) and ``give`` them back when they are
done, so from the second step on they reuse the same memory.  Arrays handed to Chainer as
outputs are never taken from here: Chainer decides when those die.

At most ``LIMIT_BYTES`` are kept (AlexNet at batch 32 trains with about 1.3 GB of them); past
that, the buffers given back longest ago are dropped.
"""

import threading
from collections import OrderedDict

import numpy

LIMIT_BYTES = 2 << 30
_FREE = OrderedDict()   # key -> list of arrays, the key given to most recently last
_LOCK = threading.Lock()
_KEPT = [0]   # bytes held in _FREE


def take(purpose, shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``, reused when one was given back.

    ``purpose`` keeps apart buffers whose untouched parts matter (a zero-padded input's
    border stays zero because only its interior is ever written); a purpose starting with
    ``zero`` gets a zeroed array when none is kept."""
    key = (purpose, tuple(shape), numpy.dtype(dtype).str)
    with _LOCK:
        free = _FREE.get(key)
        if free:
            array = free.pop()
            _KEPT[0] -= array.nbytes
            return array
    if purpose.startswith("zero"):
        return numpy.zeros(shape, dtype)
    return numpy.empty(shape, dtype)


def give(purpose, array):
    """Hand ``array`` (from ``take``, no longer used by anyone) back for reuse."""
    if array is None or array.nbytes > LIMIT_BYTES:
        return
    key = (purpose, array.shape, array.dtype.str)
    with _LOCK:
        _FREE.setdefault(key, []).append(array)
        _FREE.move_to_end(key)
        _KEPT[0] += array.nbytes
        while _KEPT[0] > LIMIT_BYTES:
            oldest = next(iter(_FREE))
            dropped = _FREE[oldest].pop(0)
            _KEPT[0] -= dropped.nbytes
            if not _FREE[oldest]:
                del _FREE[oldest]


def kept_bytes():
    """Bytes of scratch arrays held for reuse now."""
    return _KEPT[0]


def clear():
    """Drop every kept buffer (their memory goes back to the allocator)."""
    with _LOCK:
        _FREE.clear()
        _KEPT[0] = 0
