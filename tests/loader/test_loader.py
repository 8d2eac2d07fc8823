"""mlimages.loader: batches against a direct computation, failures, resume, shutdown, cache."""

import gc
import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import write_image
from mlimages import listfile
from mlimages._chainer import L, chainer, extensions, training
from mlimages.image import LabeledImage
from mlimages.loader import (DEFAULT_RESIZE, DEFAULT_SIZE, BatchLoader, LoaderError, converter,
                             crop_params, epoch_order)
from mlimages.mean import MeanOptions, mean_image

MODES = [((20, 16), "RGB", "JPEG"), ((16, 24), "L", "PNG"), ((30, 30), "RGBA", "PNG"),
         ((12, 12), "P", "PNG"), ((40, 18), "CMYK", "JPEG"), ((16, 16), "LA", "PNG"),
         ((9, 13), "RGB", "PNG"), ((64, 48), "I;16", "PNG")]


def make_set(tmp_path, count, name="train"):
    """``count`` images cycling through every colour mode and size; label = list index."""
    root = tmp_path / "images"
    entries = []
    for i in range(count):
        size, mode, fmt = MODES[i % len(MODES)]
        rel = f"{i:03d}.{'jpg' if fmt == 'JPEG' else 'png'}"
        if mode == "I;16":
            from PIL import Image
            root.mkdir(parents=True, exist_ok=True)
            data = np.random.default_rng(i).integers(0, 65536, size[::-1], dtype=np.uint16)
            Image.fromarray(data).save(root / rel)
        else:
            write_image(root / rel, size=size, mode=mode, fmt=fmt, seed=i)
        entries.append(listfile.Entry(rel, i))
    return listfile.write_list(tmp_path / f"{name}.txt", entries), root


def expected(root, entries, index, mean, size, crop, top, left, flip):
    """train_imagenet's PreprocessedDataset, written out: flip, crop, minus mean crop, / 255."""
    image = LabeledImage(root / entries[index].path).load(size=size).to_array()
    if flip:
        image = image[:, :, ::-1]
    window = (slice(None), slice(top, top + crop), slice(left, left + crop))
    out = image[window] - mean[window]
    out *= 1.0 / 255.0
    return out


def loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("mlimages-loader")]


def assert_no_workers_left(before=(), timeout=5.0):
    deadline = time.monotonic() + timeout
    while (set(loader_threads()) - set(before)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(loader_threads()) - set(before) == set()
    assert multiprocessing.active_children() == []


@pytest.fixture
def mean16():
    return np.random.default_rng(7).uniform(0, 255, (3, 16, 16)).astype(np.float32)


def test_defaults_are_the_mean_commands():
    assert (DEFAULT_SIZE, DEFAULT_RESIZE) == (256, "downscale")


@pytest.mark.parametrize("processes", [True, False])
def test_training_batches_match_direct_computation(tmp_path, mean16, processes):
    listed, root = make_set(tmp_path, 11)
    entries = listfile.read_list(listed)
    with BatchLoader(listed, root, mean16, 12, 4, train=True, seed=5, workers=3,
                     processes=processes) as loader:
        plans = [(0, 0), (0, 4), (0, 8), (1, 1), (1, 5)]  # batch 3 spans the epoch end
        for epoch, position in plans:
            x, t = next(loader)
            assert x.dtype == np.float32 and x.shape == (4, 3, 12, 12)
            assert t.dtype == np.int32 and t.shape == (4,)
            order = epoch_order(5, epoch, 11)
            indices = list(order[position:position + 4])
            if len(indices) < 4:
                indices += list(epoch_order(5, epoch + 1, 11)[:4 - len(indices)])
            assert t.tolist() == indices  # label == list index
            crops = crop_params(5, epoch, position, 4, 16, 12, train=True)
            for slot, index in enumerate(indices):
                want = expected(root, entries, index, mean16, 16, 12, crops.tops[slot],
                                crops.lefts[slot], crops.flips[slot])
                np.testing.assert_array_equal(x[slot], want)


def test_every_crop_offset_and_flip_occurs_and_crop_sized_images_work(tmp_path):
    root = tmp_path / "images"
    entries = [listfile.Entry(f"{i}.png", i) for i in range(3)]
    for i in range(3):
        write_image(root / f"{i}.png", size=(10, 10), seed=i)
    listed = listfile.write_list(tmp_path / "l.txt", entries)
    mean = np.zeros((3, 10, 10), np.float32)
    seen = set()
    with BatchLoader(listed, root, mean, 8, 3, seed=1) as loader:
        for _ in range(60):
            x, t = next(loader)
            for example, index in zip(x, t):
                matches = [(top, left, flip) for top in range(3) for left in range(3)
                           for flip in (False, True)
                           if np.array_equal(example, expected(root, entries, index, mean, 10,
                                                                8, top, left, flip))]
                assert len(matches) == 1
                seen.add(matches[0])
    assert seen == {(top, left, flip) for top in range(3) for left in range(3)
                    for flip in (False, True)}  # (2, 2): the offset Chainer never draws
    with BatchLoader(listed, root, mean, 10, 3, seed=1) as loader:  # image size == crop
        for example, index in zip(*next(loader)):
            assert any(np.array_equal(example, expected(root, entries, index, mean, 10, 10,
                                                        0, 0, flip)) for flip in (False, True))


def test_evaluation_centre_crops_in_list_order_and_stops(tmp_path, mean16):
    listed, root = make_set(tmp_path, 10)
    entries = listfile.read_list(listed)
    loader = BatchLoader(listed, root, mean16, 12, 4, train=False, repeat=False)
    try:
        for _ in range(2):  # reset() gives the same pass again
            batches = list(loader)
            assert [len(b.t) for b in batches] == [4, 4, 2]
            assert np.concatenate([b.t for b in batches]).tolist() == list(range(10))
            for index in range(10):
                want = expected(root, entries, index, mean16, 16, 12, 2, 2, False)
                np.testing.assert_array_equal(batches[index // 4].x[index % 4], want)
            assert loader.epoch == 1 and loader.is_new_epoch
            with pytest.raises(StopIteration):
                next(loader)
            loader.reset()
            assert loader.epoch == 0 and loader.previous_epoch_detail is None
    finally:
        loader.finalize()
    assert_no_workers_left()


def test_epoch_bookkeeping_and_batches_follow_serial_iterator(tmp_path, mean16):
    listed, root = make_set(tmp_path, 10)
    serial = chainer.iterators.SerialIterator(list(range(10)), 4, shuffle=False)
    with BatchLoader(listed, root, mean16, 12, 4, seed=0, shuffle=False, prefetch=2) as loader:
        for _ in range(8):
            want = next(serial)
            _, t = next(loader)
            assert t.tolist() == want
            for name in ("epoch", "current_position", "is_new_epoch", "epoch_detail",
                         "previous_epoch_detail"):
                assert getattr(loader, name) == pytest.approx(getattr(serial, name)), name


def test_shuffle_is_reproducible_per_seed_and_covers_each_epoch(tmp_path, mean16):
    listed, root = make_set(tmp_path, 12)

    def labels(seed, batches=6):
        with BatchLoader(listed, root, mean16, 12, 4, seed=seed) as loader:
            return [next(loader).t.tolist() for _ in range(batches)]

    first, again, other = labels(3), labels(3), labels(4)
    assert first == again and first != other
    epoch0, epoch1 = sum(first[:3], []), sum(first[3:], [])
    assert sorted(epoch0) == sorted(epoch1) == list(range(12)) and epoch0 != epoch1


def test_serialize_resume_continues_from_the_same_position(tmp_path, mean16):
    listed, root = make_set(tmp_path, 9)
    with BatchLoader(listed, root, mean16, 12, 4, seed=11) as reference:
        want = [next(reference) for _ in range(7)]
    saver = chainer.serializers.DictionarySerializer()
    with BatchLoader(listed, root, mean16, 12, 4, seed=11) as loader:
        for _ in range(4):
            next(loader)
        loader.serialize(saver)
    with BatchLoader(listed, root, mean16, 12, 4) as resumed:  # another seed until loaded
        next(resumed)  # already prefetching from the wrong position: must be dropped
        resumed.serialize(chainer.serializers.NpzDeserializer(saver.target))
        assert (resumed.epoch, resumed.current_position) == (1, 7)
        for batch in want[4:]:
            got = next(resumed)
            np.testing.assert_array_equal(got.x, batch.x)
            np.testing.assert_array_equal(got.t, batch.t)


def test_trainer_evaluator_snapshot_and_resume(tmp_path, mean16):
    """StandardUpdater, Evaluator and snapshot/resume work with the loader as is."""
    listed, root = make_set(tmp_path, 12)
    val, _ = make_set(tmp_path, 6, name="val")
    before = loader_threads()

    def make_trainer(out, seed):
        model = L.Classifier(L.Linear(None, 12))
        optimizer = chainer.optimizers.SGD(lr=0.01)
        optimizer.setup(model)
        train = BatchLoader(listed, root, mean16, 12, 4, seed=seed)
        updater = training.StandardUpdater(train, optimizer, converter=converter)
        trainer = training.Trainer(updater, (6, "iteration"), out=str(out))
        evaluator = extensions.Evaluator(
            BatchLoader(val, root, mean16, 12, 4, train=False, repeat=False), model,
            converter=converter)
        trainer.extend(evaluator, trigger=(3, "iteration"))
        trainer.extend(extensions.snapshot(filename="snap_{.updater.iteration}"),
                       trigger=(3, "iteration"))
        trainer.extend(extensions.LogReport(trigger=(3, "iteration")))
        return trainer, evaluator

    trainer, evaluator = make_trainer(tmp_path / "run", seed=2)
    trainer.run()
    log = json.loads((tmp_path / "run" / "log").read_text())
    assert [entry["iteration"] for entry in log] == [3, 6]
    assert all("validation/main/loss" in entry for entry in log)
    assert_no_workers_left(before)  # trainer.run() finalized both loaders

    resumed, _ = make_trainer(tmp_path / "resumed", seed=None)
    chainer.serializers.load_npz(str(tmp_path / "run" / "snap_3"), resumed)
    it = resumed.updater.get_iterator("main")
    assert (it.epoch, it.current_position, it.seed) == (1, 0, 2)
    with BatchLoader(listed, root, mean16, 12, 4, seed=2) as reference:
        want = [next(reference) for _ in range(4)][3]
    np.testing.assert_array_equal(next(it).x, want.x)
    resumed.updater.finalize()
    evaluator.finalize()
    assert_no_workers_left(before)


def test_corrupt_and_vanished_images_are_replaced_counted_and_logged_once(tmp_path, mean16,
                                                                          caplog):
    listed, root = make_set(tmp_path, 10)
    good = (root / "000.jpg").read_bytes()
    (root / "cut.jpg").write_bytes(good[:len(good) // 2])
    (root / "page.jpg").write_bytes(b"<!doctype html><html>404</html>")
    (root / "vanishing.png").write_bytes((root / "001.png").read_bytes())
    (root / "spoiled.jpg").write_bytes(good)
    listfile.write_list(listed, [("cut.jpg", 99), ("page.jpg", 99), ("gone.png", 99),
                                 ("vanishing.png", 98), ("spoiled.jpg", 98)], append=True)
    caplog.set_level(logging.WARNING, logger="mlimages.loader")
    with BatchLoader(listed, root, mean16, 12, 5, seed=0, prefetch=1) as loader:
        next(loader)
        # While training runs, one image is deleted and another damaged. The next epochs
        # (15 images, 3 batches each) are planned after this, so they meet both.
        (root / "vanishing.png").unlink()
        # Replaced whole, as a download or copy would: a batch in flight reads the old file or
        # the damaged one, never the empty file write_bytes leaves for an instant.
        (root / "spoiled.tmp").write_bytes(good[:len(good) // 3])
        os.replace(root / "spoiled.tmp", root / "spoiled.jpg")
        batches = [next(loader) for _ in range(9)]
        failures = {Path(f.path).name: f.reason.split(":")[0] for f in loader.failures}
    assert failures == {"cut.jpg": "truncated", "page.jpg": "not_image", "gone.png": "missing",
                        "vanishing.png": "missing", "spoiled.jpg": "truncated"}
    later = np.concatenate([b.t for b in batches[3:]])
    assert len(later) == 6 * 5 and not set(later) & {98, 99}  # full batches of good images
    logged = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert len(logged) == len(failures)  # once per image, however often it was drawn
    assert any("cut.jpg" in m and "truncated" in m for m in logged)


def test_unreadable_list_fails_with_a_clear_error_and_no_workers_left(tmp_path, mean16):
    listed, root = make_set(tmp_path, 6)
    before = loader_threads()
    with pytest.raises(LoaderError, match="none of the 6 images.*missing.*root"):
        with BatchLoader(listed, tmp_path / "wrong-root", mean16, 12, 2) as loader:
            next(loader)
    assert_no_workers_left(before)


@pytest.mark.parametrize("processes", [True, False])
def test_stalled_worker_is_detected_and_replaced(tmp_path, mean16, processes):
    listed, root = make_set(tmp_path, 6)
    fifo = root / "stuck.png"
    os.mkfifo(fifo)  # open() blocks until a writer appears: a read that never returns
    listfile.write_list(listed, [("stuck.png", 99)], append=True)
    before = loader_threads()
    try:
        with BatchLoader(listed, root, mean16, 12, 7, seed=0, item_timeout=2.0,
                         workers=2, processes=processes) as loader:
            batches = [next(loader) for _ in range(3)]
            assert [f.reason.split(":")[0] for f in loader.failures] == ["stalled"]
            assert Path(loader.failures[0].path).name == "stuck.png"
            assert all(len(b.t) == 7 and 99 not in b.t for b in batches)
            assert len(loader_threads()) >= 2 + 1  # two live workers and the event loop
    finally:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # release the stuck read
            os.close(fd)
        except OSError:  # ENXIO: no reader left (a stuck worker process is killed)
            assert processes
    assert_no_workers_left(before)
    assert multiprocessing.active_children() == []


def test_finalize_context_manager_consumer_exception_and_gc_leave_nothing(tmp_path, mean16):
    listed, root = make_set(tmp_path, 8)
    before = loader_threads()
    with pytest.raises(RuntimeError, match="consumer"):
        with BatchLoader(listed, root, mean16, 12, 2) as loader:
            next(loader)
            assert loader_threads()
            raise RuntimeError("consumer failed")
    assert_no_workers_left(before)
    loader = BatchLoader(listed, root, mean16, 12, 2)
    next(loader)
    loader.finalize()
    loader.finalize()  # idempotent
    assert_no_workers_left(before)
    loader = BatchLoader(listed, root, mean16, 12, 2)
    next(loader)
    del loader
    gc.collect()
    assert_no_workers_left(before)


CTRL_C = """
import os, sys, threading, multiprocessing, numpy
from mlimages.loader import BatchLoader
root = sys.argv[1]
os.mkfifo(os.path.join(root, "stuck.png"))
with open(os.path.join(root, "l.txt"), "w") as f:
    f.write("stuck.png 0\\n")
try:
    with BatchLoader(os.path.join(root, "l.txt"), root, None, 8, 1, workers=2,
                     item_timeout=600) as loader:
        print("waiting", flush=True)
        next(loader)   # blocks: the only image never arrives
except KeyboardInterrupt:
    print("interrupted", flush=True)
try:  # release a stuck thread's read; a stuck worker process was killed (ENXIO: no reader)
    os.close(os.open(os.path.join(root, "stuck.png"), os.O_WRONLY | os.O_NONBLOCK))
except OSError:
    pass
for t in threading.enumerate():
    if t is not threading.main_thread():
        t.join(5)
print("left:", [t.name for t in threading.enumerate()], multiprocessing.active_children())
"""


def test_ctrl_c_while_waiting_for_a_batch_stops_cleanly(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(CTRL_C), str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "waiting"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.splitlines() == ["interrupted", "left: ['MainThread'] []"]


@pytest.mark.parametrize("processes", [False, True])
def test_cache_stores_resized_images_then_serves_them_without_decoding(tmp_path, mean16,
                                                                       processes):
    listed, root = make_set(tmp_path, 8)
    cache = tmp_path / "cache"

    def run(**options):
        with BatchLoader(listed, root, mean16, 12, 4, seed=9, processes=processes,
                         **options) as loader:
            return [next(loader) for _ in range(6)]

    plain = run()
    first = run(cache=cache)
    (data,) = cache.glob("train-*.u8")
    state = np.fromfile(data.with_suffix(".state"), np.uint8)
    assert state.tolist() == [1] * 8
    stored = np.memmap(data, np.uint8, "r", shape=(8, 3, 16, 16))
    want = LabeledImage(root / "003.png").load(size=16).to_array(dtype=np.uint8)
    np.testing.assert_array_equal(stored[3], want)
    for image in root.iterdir():
        image.unlink()  # from now on only the cache can deliver
    second = run(cache=cache)
    for a, b, c in zip(plain, first, second):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.x, c.x)
    meta = json.loads(data.with_suffix(".json").read_text())
    assert (meta["size"], meta["resize"], meta["images"]) == (16, "downscale", 8)


def test_cache_is_rebuilt_when_list_size_or_mode_change(tmp_path, mean16):
    listed, root = make_set(tmp_path, 8)
    cache = tmp_path / "cache"

    def cache_files():
        return sorted(p.stem for p in cache.glob("*.u8"))

    with BatchLoader(listed, root, mean16, 12, 4, cache=cache) as loader:
        next(loader)
    (key1,) = cache_files()
    with BatchLoader(listed, root, mean16, 12, 4, cache=cache, resize="squash") as loader:
        next(loader)
    (key2,) = cache_files()
    with BatchLoader(listed, root, None, 12, 4, cache=cache, size=20) as loader:
        next(loader)
    (key3,) = cache_files()
    listfile.write_list(listed, listfile.read_list(listed)[:5])
    with BatchLoader(listed, root, mean16, 12, 4, cache=cache) as loader:
        next(loader)
    (key4,) = cache_files()
    assert len({key1, key2, key3, key4}) == 4
    assert all(k.startswith("train-") for k in (key1, key2, key3, key4))


def test_means_from_file_per_channel_none_and_grayscale(tmp_path):
    listed, root = make_set(tmp_path, 6)
    mean_image(listed, root, tmp_path / "mean.png", MeanOptions(size=16), progress=False)
    entries = listfile.read_list(listed)
    with BatchLoader(listed, root, tmp_path / "mean.npy", 16, 6, train=False,
                     repeat=False) as loader:
        from_file = next(loader)
    with BatchLoader(listed, root, None, 16, 6, train=False, repeat=False, size=16) as loader:
        raw = next(loader)
    full = np.load(tmp_path / "mean.npy")
    np.testing.assert_allclose(from_file.x, raw.x - full / 255, atol=1e-6)
    with BatchLoader(listed, root, [10.0, 20.0, 30.0], 16, 6, train=False, size=16) as loader:
        per_channel = next(loader)
    np.testing.assert_allclose(per_channel.x, raw.x - np.array([10, 20, 30]).reshape(3, 1, 1)
                               / 255, atol=1e-6)
    mean_image(listed, root, tmp_path / "gray.png", MeanOptions(size=16, grayscale=True),
               progress=False)
    with BatchLoader(listed, root, tmp_path / "gray.npy", 12, 6, train=False,
                     repeat=False) as loader:
        x, t = next(loader)
    assert x.shape == (6, 1, 12, 12)
    gray = np.load(tmp_path / "gray.npy")
    want = LabeledImage(root / entries[1].path).load(size=16, grayscale=True).to_array()
    np.testing.assert_array_equal(x[1], (want[:, 2:14, 2:14] - gray[:, 2:14, 2:14]) *
                                  np.float32(1 / 255))


def test_bad_arguments_name_the_fix(tmp_path, mean16):
    listed, root = make_set(tmp_path, 4)
    with pytest.raises(LoaderError, match="mean is 16x16 but images are resized to 32"):
        BatchLoader(listed, root, mean16, 12, 2, size=32)
    with pytest.raises(LoaderError, match="expected \\(C, H, W\\)"):
        BatchLoader(listed, root, np.zeros((4, 16, 16)), 12, 2)
    with pytest.raises(LoaderError, match="cannot read the mean"):
        BatchLoader(listed, root, tmp_path / "nope.npy", 12, 2)
    with pytest.raises(LoaderError, match="crop_size 17"):
        BatchLoader(listed, root, mean16, 17, 2)
    with pytest.raises(LoaderError, match="batch_size 5 must be between 1 and the 4 images"):
        BatchLoader(listed, root, mean16, 12, 5)
    with pytest.raises(LoaderError, match="grayscale=True but the mean has 3"):
        BatchLoader(listed, root, mean16, 12, 2, grayscale=True)
    with pytest.raises(TypeError, match="options are: size, resize"):
        BatchLoader(listed, root, mean16, 12, 2, colour=True)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(LoaderError, match="lists no image"):
        BatchLoader(empty, root, mean16, 12, 2)
    with pytest.raises(listfile.ListFileError):
        BatchLoader(tmp_path / "missing.txt", root, mean16, 12, 2)
    assert loader_threads() == []  # nothing starts before the first batch


def test_resume_from_a_serial_iterator_snapshot_keeps_the_position(tmp_path, mean16):
    listed, root = make_set(tmp_path, 9)
    serial = chainer.iterators.SerialIterator(list(range(9)), 4)
    for _ in range(3):
        next(serial)
    saver = chainer.serializers.DictionarySerializer()
    serial.serialize(saver)
    saver.target.pop("previous_epoch_detail")  # as in snapshots of older Chainer versions
    with BatchLoader(listed, root, mean16, 12, 4, seed=1) as loader:
        loader.serialize(chainer.serializers.NpzDeserializer(saver.target))
        assert (loader.epoch, loader.current_position, loader.seed) == (1, 3, 1)
        assert len(next(loader).t) == 4
