"""mlimages.mean: the mean image against a NumPy reference and against Chainer's own way."""

import json
import multiprocessing
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import write_image
from mlimages import listfile
from mlimages.cli import main
from mlimages.image import ImageSpec, open_image
from mlimages.defaults import DEFAULT_RESIZE, DEFAULT_SIZE
from mlimages.mean import compute_mean, mean_image
from mlimages.mean.options import MeanError, MeanOptions
from mlimages.mean.files import output_paths, read_mean, write_mean_npy

ASSETS = Path(__file__).parent / "assets"


def _reference(root, entries, spec):
    """The mean the slow, obvious way: float64 sum of open_image arrays, CHW."""
    total = 0
    for e in entries:
        arr = np.asarray(open_image(root / e.path, spec), np.float64)
        total = total + (arr[..., None] if arr.ndim == 2 else arr)
    return (total / len(entries)).transpose(2, 0, 1)


@pytest.fixture
def mixed(tmp_path):
    """Images of every size and colour mode (generated + the committed assets), and a list."""
    root = tmp_path / "images"
    entries = []
    for i, (size, mode, fmt) in enumerate([((40, 30), "RGB", "JPEG"), ((30, 40), "L", "PNG"),
                                           ((64, 48), "RGBA", "PNG"), ((20, 20), "P", "PNG"),
                                           ((50, 33), "CMYK", "JPEG"), ((33, 33), "LA", "PNG")]):
        name = f"c{i % 2}/img{i}.{'jpg' if fmt == 'JPEG' else 'png'}"
        write_image(root / name, size=size, mode=mode, fmt=fmt, seed=i)
        entries.append(listfile.Entry(name, i % 2))
    for asset in sorted(ASSETS.glob("*.*")):
        if asset.suffix in (".png", ".jpg"):
            shutil.copy(asset, root / asset.name)
            entries.append(listfile.Entry(asset.name, 0))
    listed = tmp_path / "lists" / "train.txt"
    listfile.write_list(listed, entries)
    return listed, root, entries


def test_defaults_match_training_and_image_spec():
    assert (DEFAULT_SIZE, DEFAULT_RESIZE) == (256, "downscale")
    assert MeanOptions().spec() == ImageSpec(size=256, resize="downscale")


@pytest.mark.parametrize("resize", ["downscale", "crop", "squash"])
def test_mean_matches_numpy_reference_for_every_colour_mode(mixed, resize):
    listed, root, entries = mixed
    result = compute_mean(listed, root, MeanOptions(size=24, resize=resize, workers=2, chunk=3),
                          progress=False)
    want = _reference(root, entries, ImageSpec(size=24, resize=resize))
    assert result.mean.dtype == np.float32 and result.mean.shape == (3, 24, 24)
    np.testing.assert_allclose(result.mean, want, rtol=1e-6, atol=1e-4)
    assert [e.path for e in result.used] == [e.path for e in entries]
    assert result.rejects == []


def test_result_does_not_depend_on_workers_or_chunks(mixed):
    listed, root, _ = mixed
    threads = threading.enumerate()
    means = [compute_mean(listed, root, MeanOptions(size=16, workers=w, chunk=c),
                          progress=False).mean for w, c in [(1, None), (2, 1), (3, 4)]]
    assert np.array_equal(means[0], means[1]) and np.array_equal(means[0], means[2])
    assert multiprocessing.active_children() == [] and threading.enumerate() == threads


def test_channel_stats_match_numpy(mixed):
    listed, root, entries = mixed
    result = compute_mean(listed, root, MeanOptions(size=16), progress=False)
    pixels = np.stack([np.asarray(open_image(root / e.path, size=16), np.float64)
                       for e in entries])  # N, H, W, C
    np.testing.assert_allclose(result.channel_mean, pixels.mean(axis=(0, 1, 2)), rtol=1e-9)
    np.testing.assert_allclose(result.channel_std, pixels.std(axis=(0, 1, 2)), rtol=1e-7)


def test_mean_equals_chainer_compute_mean_way(tmp_path):
    """examples/imagenet/compute_mean.py: sum LabeledImageDataset's images, divide by N."""
    from mlimages._chainer import chainer
    root = tmp_path / "images"
    entries = []
    for i in range(7):
        write_image(root / f"{i}.png", size=(32, 32), seed=i)  # lossless, already training size
        entries.append(listfile.Entry(f"{i}.png", i % 3))
    listed = listfile.write_list(tmp_path / "train.txt", entries)
    dataset = chainer.datasets.LabeledImageDataset(str(listed), str(root))
    chainer_mean = sum(image for image, _ in dataset) / len(dataset)
    ours = compute_mean(listed, root, MeanOptions(size=32), progress=False).mean
    assert ours.shape == chainer_mean.shape == (3, 32, 32)
    np.testing.assert_allclose(ours, chainer_mean, rtol=1e-6)


def test_written_files_follow_chainer_format_and_are_documented(mixed):
    listed, root, entries = mixed
    out = listed.parent.parent / "out" / "mean.png"
    result = mean_image(listed, root, out, MeanOptions(size=20), progress=False)
    paths = output_paths(out, listed)
    arr = np.load(paths["npy"], allow_pickle=False)
    assert arr.dtype == np.float32 and arr.shape == (3, 20, 20)
    assert np.array_equal(arr, result.mean)
    # train_imagenet.py crops the mean where it crops the image
    assert arr.astype(np.float32)[:, 2:18, 1:17].shape == (3, 16, 16)
    png = np.asarray(Image.open(paths["png"]))
    assert png.shape == (20, 20, 3)
    assert np.array_equal(png, np.clip(np.rint(arr), 0, 255).astype(np.uint8).transpose(1, 2, 0))
    info = json.loads(paths["json"].read_text())
    assert info["channel_order"] == "RGB" and info["shape"] == [3, 20, 20]
    assert info["images"] == len(entries) and info["rejected"] == 0
    assert info["size"] == 20 and info["resize"] == "downscale"
    assert len(info["channel_mean"]) == len(info["channel_std"]) == 3
    assert paths["used"] == listed.parent / "train_used_in_mean.txt"
    assert listfile.read_list(paths["used"]) == entries
    assert not paths["rejects"].exists()
    assert set(result.written) == {paths[k] for k in ("npy", "png", "json", "used")}


def test_png_is_rounded_not_truncated(tmp_path):
    entries = []
    for i, value in enumerate([10, 11, 11]):  # mean 10.67: rounds to 11, truncates to 10
        write_image(tmp_path / f"{i}.png", size=(8, 8), color=(value, 200, 0))
        entries.append(listfile.Entry(f"{i}.png", 0))
    listed = listfile.write_list(tmp_path / "l.txt", entries)
    mean_image(listed, tmp_path, tmp_path / "m", MeanOptions(size=8), progress=False)
    png = np.asarray(Image.open(tmp_path / "m" / "mean.png"))   # --out without .png: a folder
    assert png[0, 0].tolist() == [11, 200, 0]


def test_grayscale_mean_is_one_channel(mixed):
    listed, root, entries = mixed
    out = listed.parent / "gray.npy"
    result = mean_image(listed, root, out, MeanOptions(size=12, grayscale=True), progress=False)
    assert result.mean.shape == (1, 12, 12)
    want = _reference(root, entries, ImageSpec(size=12, grayscale=True))
    np.testing.assert_allclose(result.mean, want, rtol=1e-6, atol=1e-4)
    assert Image.open(listed.parent / "gray.png").mode == "L"
    assert json.loads((listed.parent / "gray.json").read_text())["channel_order"] == "L"


def test_unreadable_images_are_rejected_with_reason_and_left_out(mixed):
    listed, root, entries = mixed
    (root / "bad.jpg").write_bytes(b"<html>not found</html>")
    (root / "empty.png").write_bytes(b"")
    good = (root / entries[0].path).read_bytes()
    (root / "cut.jpg").write_bytes(good[:len(good) // 2])
    bad = [listfile.Entry(n, 1) for n in ("bad.jpg", "gone.jpg", "empty.png", "cut.jpg")]
    listfile.write_list(listed, bad, append=True)
    result = mean_image(listed, root, listed.parent / "mean.png", MeanOptions(size=16),
                        progress=False)
    assert [e.path for e in result.used] == [e.path for e in entries]
    reasons = {r.path: r.reason.split(":")[0] for r in result.rejects}
    assert reasons == {"bad.jpg": "not_image", "gone.jpg": "missing", "empty.png": "empty",
                       "cut.jpg": "truncated"}
    lines = (listed.parent / "train_rejects_in_mean.txt").read_text().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["bad.jpg", "gone.jpg", "empty.png",
                                                      "cut.jpg"]
    np.testing.assert_allclose(result.mean, _reference(root, entries, ImageSpec(size=16)),
                               rtol=1e-6, atol=1e-4)
    # A later run without rejects removes the stale rejects file.
    listfile.write_list(listed, entries)
    mean_image(listed, root, listed.parent / "mean.png", MeanOptions(size=16), progress=False)
    assert not (listed.parent / "train_rejects_in_mean.txt").exists()


def test_errors_name_the_problem(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(MeanError, match="lists no image"):
        compute_mean(empty, tmp_path, progress=False)
    listed = listfile.write_list(tmp_path / "l.txt", [("a.jpg", 0), ("b.jpg", 1)])
    with pytest.raises(MeanError, match="none of the 2 images.*missing.*--root"):
        compute_mean(listed, tmp_path, progress=False)
    with pytest.raises(MeanError, match="size"):
        compute_mean(listed, tmp_path, MeanOptions(size=0), progress=False)
    with pytest.raises(MeanError, match="resize"):
        compute_mean(listed, tmp_path, MeanOptions(resize=None), progress=False)
    with pytest.raises(listfile.ListFileError):
        compute_mean(tmp_path / "nope.txt", tmp_path, progress=False)


# ------------------------------------------------------------------ the one mean.npy reader
def test_read_mean_gives_back_what_was_written_as_float32(tmp_path):
    mean = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    back = read_mean(write_mean_npy(tmp_path / "m.npy", mean))
    assert back.dtype == np.float32 and np.array_equal(back, mean)
    np.save(tmp_path / "gray.npy", np.full((1, 2, 2), 7, np.uint8))
    gray = read_mean(tmp_path / "gray.npy")
    assert gray.dtype == np.float32 and gray.shape == (1, 2, 2) and gray.max() == 7


def test_read_mean_refuses_anything_else_naming_the_file_and_the_fix(tmp_path):
    (tmp_path / "junk.npy").write_bytes(b"junk")
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "two.npz", a=np.zeros((3, 2, 2)))
    np.save(tmp_path / "words.npy", np.array([["a"]]))
    for name in ("junk.npy", "pickled.npy", "missing.npy", "two.npz", "words.npy"):
        with pytest.raises(MeanError, match=f"cannot read the mean .*{name}.*mlimages mean LIST"):
            read_mean(tmp_path / name)
    for shape in ((3,), (3, 4), (4, 2, 2), (1, 3, 2, 2)):
        np.save(tmp_path / "shape.npy", np.zeros(shape, np.float32))
        with pytest.raises(MeanError, match="shape.npy: expected a \\(C, H, W\\) .*got shape"):
            read_mean(tmp_path / "shape.npy")


def test_cli_mean_writes_files_and_reports(mixed, capsys):
    listed, root, entries = mixed
    out = listed.parent / "m.png"
    assert main(["mean", str(listed), "--root", str(root), "--size", "16", "--out", str(out),
                 "--quiet"]) == 0
    text = capsys.readouterr().out
    assert f"mean of {len(entries)} images" in text and "channel mean" in text
    assert np.load(listed.parent / "m.npy").shape == (3, 16, 16)
    assert main(["mean", str(listed.parent / "missing.txt")]) == 2
    assert "cannot read list file" in capsys.readouterr().err


def test_cli_help_shows_defaults():
    done = subprocess.run([sys.executable, "-m", "mlimages", "mean", "--help"],
                          capture_output=True, text=True, check=True)
    assert "default: 256" in done.stdout and "default: downscale" in done.stdout


def test_large_chunks_of_bright_images_do_not_overflow(tmp_path):
    """One worker task sums 300 white images: past the 257 an uint16 partial sum can hold."""
    entries = []
    for i in range(300):
        write_image(tmp_path / f"{i}.png", size=(4, 4), color=(255, 255, 254 + i % 2))
        entries.append(listfile.Entry(f"{i}.png", 0))
    listed = listfile.write_list(tmp_path / "l.txt", entries)
    result = compute_mean(listed, tmp_path, MeanOptions(size=4, workers=1, chunk=300),
                          progress=False)
    assert result.mean[0].min() == result.mean[0].max() == 255.0
    assert result.mean[2, 0, 0] == np.float32(254.5)
