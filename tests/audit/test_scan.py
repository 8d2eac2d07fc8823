"""The scan's pool: workers whose allocator keeps freed memory (audit/scan.py)."""

from concurrent.futures import ProcessPoolExecutor

import pytest

from mlimages._fs import pool_context
from mlimages.audit.scan import glibc, keep_freed_memory, scan_pool

# Run in a pool worker (text, so that the worker imports nothing of the tests): the minor page
# faults of 20 rounds of five 1 MiB NumPy arrays made together and freed together, the scan's
# per-batch temporaries in small.
_FAULTS_OF_BATCHES = """
import numpy, resource
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
before = faults()
for _ in range(20):
    arrays = [numpy.ones(1 << 17) for _ in range(5)]
    del arrays
result = faults() - before
"""


def _faults_in(pool):
    code = {"SRC": _FAULTS_OF_BATCHES, "g": {}}
    with pool:
        return pool.submit(eval, "exec(SRC, g) or g['result']", code).result()


@pytest.mark.skipif(not glibc(), reason="the setting is glibc's")
@pytest.mark.parametrize("tuned", ["keep_freed_memory", "scan_pool"])
def test_a_worker_that_keeps_freed_memory_faults_its_pages_in_once(tuned):
    untuned = _faults_in(ProcessPoolExecutor(1, mp_context=pool_context()))
    if untuned < 20 * 256:   # fewer than one array's 256 pages per round: nothing to save
        pytest.skip(f"this allocator kept the memory anyway ({untuned} faults)")
    pool = (scan_pool(1) if tuned == "scan_pool" else
            ProcessPoolExecutor(1, mp_context=pool_context(), initializer=keep_freed_memory))
    # 5 MiB are 1,280 pages: faulted in by the first round, reused by the other 19.
    assert _faults_in(pool) < untuned / 4


@pytest.mark.skipif(not glibc(), reason="the setting is glibc's")
def test_glibc_takes_the_setting():
    with ProcessPoolExecutor(1, mp_context=pool_context()) as pool:
        assert pool.submit(keep_freed_memory).result() is True
