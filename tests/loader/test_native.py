"""mlimages.loader.native: the compiled single pass writes NumPy's bits, from planes or from
Pillow's own pixels, or declines."""

import ctypes
import itertools
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from mlimages.image import ImageSpec, open_image
from mlimages.loader import native
from mlimages.loader.transforms import (_SCALE, chw_array, crop_into, crop_view, normalize,
                                        place)


# Where the package was installed without a C compiler the loops are absent and NumPy does the
# work (tested in test_transforms.py); test_the_extension_is_built_where_a_compiler_is makes
# sure that this skips nothing where a compiler is.
needs_loops = pytest.mark.skipif(native.library() is None,
                                 reason="the compiled loops are not built (no C compiler)")


@pytest.fixture
def loops_off(monkeypatch):
    """``MLIMAGES_NATIVE=0`` for the test (read at the first call: the cache is cleared)."""
    monkeypatch.setenv(native.ENV, "0")
    native.library.cache_clear()
    yield
    monkeypatch.delenv(native.ENV)
    native.library.cache_clear()


def numpy_place(chw, mean, top, left, flip, crop):
    out = np.empty((chw.shape[0], crop, crop), np.float32)
    normalize(out, crop_view(chw, top, left, flip, crop), mean, top, left)
    return out


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None,
                    reason="no C compiler: the package installs without its compiled loop")
def test_the_extension_is_built_where_a_compiler_is(monkeypatch):
    monkeypatch.delenv(native.ENV, raising=False)  # built, whether turned off here or not
    native.library.cache_clear()
    try:
        assert native.library() is not None, (
            "mlimages/loader/_native.c was not compiled: `make setup` builds it (run it again)")
    finally:
        monkeypatch.undo()
        native.library.cache_clear()


@needs_loops
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
@needs_loops
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


def test_mlimages_native_0_turns_it_off(loops_off):
    chw = np.zeros((3, 8, 8), np.uint8)
    out = np.full((3, 4, 4), np.nan, np.float32)
    assert _declined(out, chw, np.zeros((3, 1, 1), np.float32), 0, 0, 4)
    assert native.pixels(Image.new("RGB", (8, 8))) is None


# ------------------------------------------------------------ Pillow's pixels, read in place
def _rgb_image(height, width, seed):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


def _decoded_jpeg(tmp_path, size):
    _rgb_image(size, size, 9).save(tmp_path / "a.jpg", quality=90)
    return open_image(tmp_path / "a.jpg", ImageSpec(size=size))
@needs_loops
def test_pixels_reach_a_decoded_rgb_image_where_pillow_keeps_it(tmp_path):
    im = _decoded_jpeg(tmp_path, 32)
    pixels = native.pixels(im)
    assert pixels is not None and (pixels.width, pixels.height) == (32, 32)
    words = (ctypes.c_uint8 * (32 * 32 * 4)).from_address(pixels.address)
    rgbx = np.frombuffer(words, np.uint8).reshape(32, 32, 4)
    np.testing.assert_array_equal(rgbx[:, :, :3], np.asarray(im))


@needs_loops
@pytest.mark.parametrize("height, width, crop", [(256, 256, 227), (13, 17, 9), (7, 5, 5),
                                                 (4, 4, 1)])
@pytest.mark.parametrize("mean_kind", ["image", "per channel"])
def test_pixels_give_the_bits_of_the_planes(height, width, crop, mean_kind):
    rng = np.random.default_rng(height + width + crop)
    im = _rgb_image(height, width, crop)
    pixels, chw = native.pixels(im), chw_array(im)
    shape = (3, 1, 1) if mean_kind == "per channel" else (3, height, width)
    mean = rng.uniform(0, 255, shape).astype(np.float32)
    tops = sorted({0, height - crop})
    lefts = sorted({0, (width - crop) // 2, width - crop})
    for top, left, flip in itertools.product(tops, lefts, (False, True)):
        out = np.full((3, crop, crop), np.nan, np.float32)
        assert native.place_pixels(out, pixels, mean, top, left, flip, crop, _SCALE)
        np.testing.assert_array_equal(out, numpy_place(chw, mean, top, left, flip, crop))
        window = np.zeros((3, crop, crop), np.uint8)
        assert native.crop_pixels(window, pixels, top, left, flip, crop)
        np.testing.assert_array_equal(window, crop_view(chw, top, left, flip, crop))
@needs_loops
def test_pixels_are_none_where_the_loops_cannot_read_them():
    assert native.pixels(Image.new("L", (8, 8))) is None  # one byte a pixel: planes already
    assert native.pixels(Image.new("RGBA", (8, 8))) is None  # open_image never gives RGBA
    # Pillow keeps a large image's rows in several blocks: no one address for them all.
    assert native.pixels(Image.new("RGB", (3000, 3000))) is None
    grey_schema, grey_export = Image.new("L", (8, 8)).__arrow_c_array__()
    assert not native.library().mlimages_arrow_pixels(  # the C side checks the layout too
        native._capsule(grey_schema, b"arrow_schema"),
        native._capsule(grey_export, b"arrow_array"), 64)
@needs_loops
def test_pixels_decline_what_they_cannot_write_and_the_transforms_use_the_planes():
    rng = np.random.default_rng(5)
    im = _rgb_image(16, 16, 5)
    pixels, chw = native.pixels(im), chw_array(im)
    mean = rng.uniform(0, 255, (3, 16, 16)).astype(np.float32)
    strided = np.full((3, 12, 24), np.nan, np.float32)[:, :, :12]
    assert not native.place_pixels(strided, pixels, mean, 0, 0, True, 12, _SCALE)
    assert np.isnan(strided).all()
    for top, left in ((5, 0), (0, 5), (-1, 0)):  # the window would leave the image
        out = np.full((3, 12, 12), np.nan, np.float32)
        assert not native.place_pixels(out, pixels, mean, top, left, False, 12, _SCALE)
        assert not native.crop_pixels(np.zeros((3, 12, 12), np.uint8), pixels, top, left,
                                      False, 12)
        assert np.isnan(out).all()
    assert not native.place_pixels(np.empty((3, 12, 12), np.float32), pixels, mean[:, :8],
                                   0, 0, False, 12, _SCALE)
    assert not native.crop_pixels(np.zeros((1, 12, 12), np.uint8), pixels, 0, 0, False, 12)
    # Declined, transforms.place and crop_into read the planes instead: the same result.
    place(strided, pixels, mean, 2, 3, True, 12)
    np.testing.assert_array_equal(strided, numpy_place(chw, mean, 2, 3, True, 12))
    window = np.zeros((3, 12, 24), np.uint8)[:, :, ::2]
    crop_into(window, pixels, 2, 3, True, 12)
    np.testing.assert_array_equal(window, crop_view(chw, 2, 3, True, 12))
