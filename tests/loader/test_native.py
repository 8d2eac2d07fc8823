"""mlimages.loader.native: the compiled single pass writes NumPy's bits, or declines."""

import itertools
import os
import shutil

import numpy as np
import pytest

from mlimages.loader import native
from mlimages.loader.transforms import _SCALE, crop_view, normalize


def numpy_place(chw, mean, top, left, flip, crop):
    out = np.empty((chw.shape[0], crop, crop), np.float32)
    normalize(out, crop_view(chw, top, left, flip, crop), mean, top, left)
    return out


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None,
                    reason="no C compiler: the package installs without its compiled loop")
def test_the_extension_is_built_where_a_compiler_is():
    assert native.function() is not None, (
        "mlimages/loader/_native.c was not compiled: `make setup` builds it (run it again)")


@pytest.mark.parametrize("size, crop", [(256, 227), (16, 12), (13, 9), (10, 10), (7, 1)])
@pytest.mark.parametrize("mean_kind", ["image", "per channel", "grey image"])
def test_native_place_writes_numpys_bits(size, crop, mean_kind):
    rng = np.random.default_rng(size * 7 + crop)
    channels = 1 if mean_kind == "grey image" else 3
    chw = rng.integers(0, 256, (channels, size, size), dtype=np.uint8)
    shape = (channels, 1, 1) if mean_kind == "per channel" else (channels, size, size)
    mean = rng.uniform(0, 255, shape).astype(np.float32)
    offsets = sorted({0, (size - crop) // 2, size - crop})
    for top, left, flip in itertools.product(offsets, offsets, (False, True)):
        out = np.full((channels, crop, crop), np.nan, np.float32)
        assert native.place(out, chw, mean, top, left, flip, crop, _SCALE)
        np.testing.assert_array_equal(out, numpy_place(chw, mean, top, left, flip, crop))


def test_native_place_reads_planes_with_any_row_and_channel_strides():
    rng = np.random.default_rng(3)
    padded = rng.integers(0, 256, (3, 20, 24), dtype=np.uint8)
    chw = padded[:, 2:18, 4:20]  # rows 24 bytes apart, channels 480
    mean = rng.uniform(0, 255, (3, 16, 16)).astype(np.float32)
    out = np.empty((3, 12, 12), np.float32)
    assert native.place(out, chw, mean, 3, 1, True, 12, _SCALE)
    np.testing.assert_array_equal(out, numpy_place(chw, mean, 3, 1, True, 12))


def _declined(out, chw, mean, top, left, crop):
    before = out.copy()
    declined = not native.place(out, chw, mean, top, left, False, crop, _SCALE)
    return declined and np.array_equal(out, before, equal_nan=True)


def test_native_place_declines_what_it_cannot_read_and_writes_nothing():
    rng = np.random.default_rng(4)
    chw = rng.integers(0, 256, (3, 16, 16), dtype=np.uint8)
    mean = rng.uniform(0, 255, (3, 16, 16)).astype(np.float32)
    out = np.full((3, 12, 12), np.nan, np.float32)
    hwc_view = np.ascontiguousarray(chw.transpose(1, 2, 0)).transpose(2, 0, 1)
    assert _declined(out, hwc_view, mean, 0, 0, 12)  # pixels 3 bytes apart
    assert _declined(out, chw, mean, 5, 0, 12) and _declined(out, chw, mean, 0, -1, 12)
    assert _declined(out, chw.astype(np.float32), mean, 0, 0, 12)
    assert _declined(out, chw, mean.astype(np.float64), 0, 0, 12)
    assert _declined(out, chw, mean[:, :8, :8], 0, 0, 12)  # a mean smaller than the window
    assert _declined(out, chw, mean[:, ::2, ::2], 0, 0, 8)  # columns 8 bytes apart
    assert _declined(out, chw[:1], mean, 0, 0, 12)  # channels differ
    assert _declined(np.full((3, 12, 13), np.nan, np.float32), chw, mean, 0, 0, 12)
    assert _declined(np.full((3, 12, 24), np.nan, np.float32)[:, :, :12], chw, mean, 0, 0, 12)
    out.flags.writeable = False  # NumPy then raises, as for any read-only destination
    assert _declined(out, chw, mean, 0, 0, 12)


def test_mlimages_native_0_turns_it_off(monkeypatch):
    monkeypatch.setenv(native.ENV, "0")
    native.function.cache_clear()
    try:
        chw = np.zeros((3, 8, 8), np.uint8)
        out = np.full((3, 4, 4), np.nan, np.float32)
        assert _declined(out, chw, np.zeros((3, 1, 1), np.float32), 0, 0, 4)
    finally:
        monkeypatch.delenv(native.ENV)
        native.function.cache_clear()
    assert native.function() is not None
