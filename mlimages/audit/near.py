"""Near-duplicate search over 64-bit hashes: pigeonhole bands, then exact distances.

Split the 64 bits into ``d + 1`` bands. Two hashes that differ in at most ``d`` bits leave at
least one band untouched (``d`` differing bits can spoil at most ``d`` bands), so every such
pair shares the value of one band: hashes are bucketed by each band's value, only pairs inside
a bucket are compared, and none within ``d`` is missed. Identical hashes are merged first, so
a thousand copies of one blank image cost one bucket entry, not half a million pairs.
"""

import numpy

_BITS = 64
_BYTE_COUNTS = numpy.array([bin(i).count("1") for i in range(256)], dtype=numpy.uint8)


def popcount(x):
    """Set bits of each element of a uint64 array (``numpy.bitwise_count`` on NumPy 2, a
    byte lookup table on NumPy 1.26); returns a uint8 array of the same shape."""
    x = numpy.ascontiguousarray(x, dtype=numpy.uint64)
    if hasattr(numpy, "bitwise_count"):
        return numpy.bitwise_count(x)
    return _popcount_table(x)


def _popcount_table(x):
    """:func:`popcount` by the lookup table (what NumPy 1.26 runs; tested on NumPy 2 too)."""
    x = numpy.ascontiguousarray(x, dtype=numpy.uint64)
    per_byte = _BYTE_COUNTS[x.view(numpy.uint8).reshape(x.shape + (8,))]
    return per_byte.sum(axis=-1, dtype=numpy.uint8)


def bands(max_distance):
    """(shift, mask) of each of the ``max_distance + 1`` bands covering the 64 bits."""
    count = max_distance + 1
    edges = [round(i * _BITS / count) for i in range(count + 1)]
    return [(lo, numpy.uint64((1 << (hi - lo)) - 1)) for lo, hi in zip(edges, edges[1:])]


def _bucket_pairs(keys):
    """Index pairs (a, b), a != b, of equal ``keys``: each pair of a bucket once."""
    order = numpy.argsort(keys, kind="stable")
    k = keys[order]
    pos = numpy.flatnonzero(k[1:] == k[:-1])   # p where k[p] == k[p + 1]
    firsts, seconds, step = [], [], 1
    while pos.size:
        firsts.append(order[pos])
        seconds.append(order[pos + step])
        step += 1
        pos = pos[pos + step < k.size]
        pos = pos[k[pos + step] == k[pos]]
    if not firsts:
        return numpy.empty(0, numpy.intp), numpy.empty(0, numpy.intp)
    return numpy.concatenate(firsts), numpy.concatenate(seconds)


def near_pairs(hashes, max_distance):
    """Every pair of ``hashes`` within ``max_distance`` bits.

    Args:
        hashes: uint64 array of shape (N,).
        max_distance (int): 0..31.

    Returns:
        (i, j, distance): int arrays of one length, ``i < j``, each pair once; identical
        hashes are pairs at distance 0.
    """
    hashes = numpy.asarray(hashes, dtype=numpy.uint64)
    values, inverse = numpy.unique(hashes, return_inverse=True)
    a_parts, b_parts = [], []
    for shift, mask in bands(max_distance):
        a, b = _bucket_pairs((values >> numpy.uint64(shift)) & mask)
        keep = popcount(values[a] ^ values[b]) <= max_distance
        a_parts.append(numpy.minimum(a, b)[keep])
        b_parts.append(numpy.maximum(a, b)[keep])
    a, b = numpy.concatenate(a_parts), numpy.concatenate(b_parts)
    pairs = numpy.unique(a.astype(numpy.int64) * values.size + b)
    a, b = pairs // values.size, pairs % values.size
    return _expand(hashes, values, inverse, a, b)


def _expand(hashes, values, inverse, a, b):
    """Pairs of distinct values (a, b) -> pairs of the original indices, plus the pairs of
    indices holding the same value (chained: each to the first of its value)."""
    order = numpy.argsort(inverse, kind="stable")
    starts = numpy.searchsorted(inverse[order], numpy.arange(values.size))
    first = order[starts]                                  # first index of each value
    same = order[inverse[order] == inverse[first[inverse[order]]]]
    same = same[same != first[inverse[same]]]
    i = numpy.concatenate([first[a], first[inverse[same]]])
    j = numpy.concatenate([first[b], same])
    distance = popcount(hashes[i] ^ hashes[j]).astype(numpy.int64)
    return numpy.minimum(i, j), numpy.maximum(i, j), distance


def brute_force_pairs(hashes, max_distance):
    """The same pairs as :func:`near_pairs` by comparing all of them (for tests and the
    benchmark's baseline; O(N^2))."""
    hashes = numpy.asarray(hashes, dtype=numpy.uint64)
    i_all, j_all, d_all = [], [], []
    for i in range(hashes.size - 1):
        d = popcount(hashes[i + 1:] ^ hashes[i])
        j = numpy.flatnonzero(d <= max_distance) + i + 1
        i_all.append(numpy.full(j.size, i))
        j_all.append(j)
        d_all.append(d[j - i - 1].astype(numpy.int64))
    if not i_all:
        return (numpy.empty(0, numpy.int64),) * 3
    return numpy.concatenate(i_all), numpy.concatenate(j_all), numpy.concatenate(d_all)


def components(n, i, j):
    """Connected components of the graph on ``n`` nodes with edges (i, j).

    Returns:
        int array of shape (n,): each node's component, named by its smallest node.
    """
    labels = numpy.arange(n)
    i, j = numpy.asarray(i, dtype=numpy.intp), numpy.asarray(j, dtype=numpy.intp)
    while True:
        low = numpy.minimum(labels[i], labels[j])
        before = labels.copy()
        numpy.minimum.at(labels, i, low)
        numpy.minimum.at(labels, j, low)
        labels = labels[labels]                # pointer jumping
        while not numpy.array_equal(labels, labels[labels]):
            labels = labels[labels]
        if numpy.array_equal(labels, before):
            return labels
