"""mlimages.loader.procs: a worker process that dies fails only the image it was reading."""

import multiprocessing
import os
import signal
import threading
from pathlib import Path

import numpy as np

from conftest import write_image
from mlimages import listfile
from mlimages.loader import BatchLoader


def _reader_of(path):
    """The loader's child process that has ``path`` open, or None."""
    for child in multiprocessing.active_children():
        fds = Path(f"/proc/{child.pid}/fd")
        try:
            if any(os.readlink(fd) == str(path) for fd in fds.iterdir()):
                return child
        except OSError:
            continue
    return None


def test_a_dead_child_fails_its_item_as_crashed_and_the_batch_completes(tmp_path):
    root = tmp_path / "images"
    for i in range(5):
        write_image(root / f"{i}.png", size=(12, 12), seed=i)
    fifo = root / "stuck.png"
    os.mkfifo(fifo)  # its reader blocks until the test kills it
    entries = [listfile.Entry(f"{i}.png", i) for i in range(5)] + [listfile.Entry("stuck.png", 9)]
    listed = listfile.write_list(tmp_path / "l.txt", entries)
    result = {}

    def consume():
        with BatchLoader(listed, root, None, 10, 6, train=False, repeat=False, size=12,
                         workers=2, item_timeout=600, prefetch=1, processes=True) as loader:
            result["batch"] = next(loader)
            result["failures"] = loader.failures

    consumer = threading.Thread(target=consume)
    consumer.start()
    writer = os.open(fifo, os.O_WRONLY)  # returns once a child opened it: it now waits in read
    try:
        child = _reader_of(fifo)
        assert child is not None
        os.kill(child.pid, signal.SIGKILL)
        consumer.join(60)
    finally:
        os.close(writer)
    assert not consumer.is_alive()
    batch = result["batch"]
    assert len(batch.t) == 6 and 9 not in batch.t.tolist()  # the slot holds a replacement
    assert [f.reason.split(":")[0] for f in result["failures"]] == ["crashed"]
    assert Path(result["failures"][0].path).name == "stuck.png"
    assert np.isfinite(batch.x).all()
    assert multiprocessing.active_children() == []


def _labelled_images(tmp_path, count, suffix, side):
    """``count`` images ``{i}{suffix}`` of ``side`` pixels, image i labelled i: (list, root)."""
    root = tmp_path / "images"
    for i in range(count):
        write_image(root / f"{i}{suffix}", size=(side, side), seed=i)
    listed = listfile.write_list(tmp_path / "l.txt",
                                 [listfile.Entry(f"{i}{suffix}", i) for i in range(count)])
    return listed, root


def test_batches_kept_by_the_consumer_are_never_overwritten(tmp_path):
    listed, root = _labelled_images(tmp_path, 10, ".jpg", 14)
    kept, copies = [], []
    with BatchLoader(listed, root, None, 12, 4, seed=2, size=14, workers=2,
                     prefetch=2, processes=True) as loader:
        for k in range(12):
            batch = next(loader)
            if k % 2:
                kept.append(batch.x[1:])  # a view keeps the whole shared buffer in use
                copies.append(batch.x[1:].copy())
            del batch  # the others go back to the pool and are written again
        for view, copy in zip(kept, copies):
            np.testing.assert_array_equal(view, copy)
    for view, copy in zip(kept, copies):  # still readable after finalize()
        np.testing.assert_array_equal(view, copy)


def test_a_child_that_died_between_jobs_is_replaced_without_blaming_an_image(tmp_path):
    listed, root = _labelled_images(tmp_path, 4, ".png", 12)
    with BatchLoader(listed, root, None, 10, 4, train=False, repeat=False, size=12,
                     workers=1, prefetch=1, processes=True) as loader:
        first = next(loader)
        (child,) = multiprocessing.active_children()  # idle: nothing more to load
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        loader.reset()
        again = next(loader)
        assert loader.failures == []
        np.testing.assert_array_equal(again.x, first.x)
        assert again.t.tolist() == [0, 1, 2, 3]
