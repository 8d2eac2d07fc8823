"""mlimages/audit/near.py: the banded search finds what brute force finds."""

import numpy
import pytest

from mlimages.audit.near import (_popcount_table, bands, brute_force_pairs, components,
                                 near_pairs, popcount)


def _random_hashes(n, seed):
    rng = numpy.random.default_rng(seed)
    h = rng.integers(0, 2**63, size=n, dtype=numpy.uint64) * numpy.uint64(2) + numpy.uint64(1)
    for k in range(0, n // 10):                     # planted near copies and exact repeats
        flips = rng.choice(64, size=rng.integers(0, 8), replace=False)
        h[n // 2 + k] = h[k] ^ numpy.uint64(sum(1 << int(b) for b in flips))
    h[-5:] = h[3]
    return h


@pytest.mark.parametrize("max_distance", [0, 1, 3, 4, 7, 12])
def test_near_pairs_group_as_brute_force_does(max_distance):
    h = _random_hashes(600, max_distance)
    i, j, d = near_pairs(h, max_distance)
    bi, bj, bd = brute_force_pairs(h, max_distance)
    assert set(zip(i.tolist(), j.tolist(), d.tolist())) <= set(zip(bi.tolist(), bj.tolist(),
                                                                   bd.tolist()))
    assert (i < j).all() and (d <= max_distance).all()
    assert numpy.array_equal(components(h.size, i, j), components(h.size, bi, bj))
    assert len(set(components(h.size, i, j).tolist())) < h.size      # something was found


def test_every_pair_of_distinct_hashes_within_the_distance_is_found():
    # Every hash at distance exactly d of one base: each pair must be found by a band.
    base = numpy.uint64(0x0123456789ABCDEF)
    flips = [sum(1 << b for b in range(s, 64, 16))
             for s in range(16)]                 # 4 bits each, spread over every band layout
    h = numpy.array([base] + [base ^ numpy.uint64(f) for f in flips], dtype=numpy.uint64)
    i, j, d = near_pairs(h, 4)
    assert sorted(j[i == 0].tolist()) == list(range(1, 17))
    assert set(d[i == 0].tolist()) == {4}


def test_bands_cover_the_64_bits_once():
    for distance in range(0, 20):
        covered = 0
        for shift, mask in bands(distance):
            covered += int(mask) << shift
        assert covered == 2**64 - 1 and len(bands(distance)) == distance + 1


def test_popcount_lookup_table_agrees_with_numpy():
    h = _random_hashes(1000, 5)
    expected = [bin(int(x)).count("1") for x in h]
    assert _popcount_table(h).tolist() == expected
    assert popcount(h).tolist() == expected


def test_components_joins_chains():
    assert components(7, [0, 2, 5], [1, 3, 2]).tolist() == [0, 0, 2, 2, 4, 2, 6]
    assert components(3, [], []).tolist() == [0, 1, 2]
