"""mlimages/_fs.py: atomic writes, where a folder can go, the pools' context, the memory
setting of a pool worker."""

import os
import stat

import pytest

from mlimages._fs import atomic_write_bytes, atomic_write_text


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_the_file_gets_the_umask_permissions_not_mkstemps_0600(tmp_path, umask_027):
    path = atomic_write_text(tmp_path / "lists" / "train.txt", "a.jpg 0\n")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert path.read_text() == "a.jpg 0\n"


def test_replacing_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "mean.npy"
    atomic_write_bytes(target, b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["mean.npy"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "summary.json"
    atomic_write_text(target, "{}")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # fails inside the write
    assert target.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_blocking_file_names_what_stops_a_folder(tmp_path):
    from mlimages._fs import blocking_file
    assert blocking_file(tmp_path) is None                        # a folder
    assert blocking_file(tmp_path / "new" / "deeper") is None     # can be made
    (tmp_path / "f").write_text("x")
    assert blocking_file(tmp_path / "f") == tmp_path / "f"        # a file itself
    assert blocking_file(tmp_path / "f" / "sub" / "x") == tmp_path / "f"   # a file above it


def test_pool_context_never_forks():
    from mlimages._fs import pool_context
    assert pool_context().get_start_method() in ("forkserver", "spawn")


# Run in a pool worker: the minor page faults of 20 rounds of five 1 MiB NumPy arrays made
# together and freed together (the audit's per-batch temporaries, in small).
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
    with pool:
        return pool.submit(eval, "exec(SRC, g) or g['result']",
                           {"SRC": _FAULTS_OF_BATCHES, "g": {}}).result()


@pytest.mark.parametrize("tuned", ["keep_freed_memory", "audit scan_pool"])
def test_a_worker_that_keeps_freed_memory_faults_its_pages_in_once(tuned):
    import platform
    from concurrent.futures import ProcessPoolExecutor

    from mlimages._fs import keep_freed_memory, pool_context
    from mlimages.audit.scan import scan_pool
    if platform.libc_ver()[0] != "glibc":
        assert not keep_freed_memory()
        pytest.skip("the setting is glibc's")
    untuned = _faults_in(ProcessPoolExecutor(1, mp_context=pool_context()))
    if untuned < 20 * 256:   # fewer than one array's 256 pages per round: nothing to save
        pytest.skip(f"this allocator kept the memory anyway ({untuned} faults)")
    pool = (scan_pool(1) if tuned == "audit scan_pool" else
            ProcessPoolExecutor(1, mp_context=pool_context(), initializer=keep_freed_memory))
    # 5 MiB are 1,280 pages: faulted in by the first round, reused by the other 19.
    assert _faults_in(pool) < untuned / 4
