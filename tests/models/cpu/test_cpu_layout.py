"""mlimages.models.cpu.layout: NCHW shapes over NHWC memory, the batch split over threads
(test_cpu_layout: test_layout.py is the package-shape test)."""

import numpy as np

from mlimages.models.cpu.layout import to_nchw, to_nhwc


def test_nhwc_memory_round_trips_without_a_copy():
    y = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)   # (B, H, W, C)
    x = to_nchw(y)
    assert x.shape == (2, 5, 3, 4) and np.shares_memory(x, y)
    back = to_nhwc(x)
    assert back.flags.c_contiguous and np.shares_memory(back, y)
    plain = np.ascontiguousarray(x)   # ordinary NCHW memory: copied into NHWC
    assert np.array_equal(to_nhwc(plain), y) and not np.shares_memory(to_nhwc(plain), plain)


def test_the_element_wise_threads_follow_the_blas_limit():
    from threadpoolctl import threadpool_limits

    from mlimages.models.cpu.layout import over_batch, threads
    with threadpool_limits(limits=1, user_api="blas"):
        assert threads() == 1
    seen = []
    over_batch(lambda a, b: seen.append((a, b)), 5)
    assert sorted(seen)[0][0] == 0 and sorted(seen)[-1][1] == 5
    assert sum(b - a for a, b in seen) == 5 and len(seen) == min(threads(), 5)
