"""mlimages.loader.cache: the Reader hands out the same CHW pixels decoded and cached."""

import numpy as np
import pytest
from PIL import Image

from conftest import write_image
from mlimages import listfile
from mlimages.image import ImageSpec, open_image
from mlimages.loader.cache import ImageCache, Reader, chw_array


@pytest.mark.parametrize("mode, channels", [("RGB", 3), ("L", 1), ("RGBA", 3)])
def test_reader_gives_the_same_chw_pixels_decoded_and_from_the_cache(tmp_path, mode, channels):
    root = tmp_path / "images"
    write_image(root / "a.png", size=(20, 14), mode=mode, seed=3)
    entries = [listfile.Entry("a.png", 0)]
    listed = listfile.write_list(tmp_path / "l.txt", entries)
    spec = ImageSpec(size=16, grayscale=channels == 1)
    cache = ImageCache(tmp_path / "cache", listed, entries, root, 16, spec.resize, channels)
    reader = Reader(root, entries, spec, cache)
    hwc = np.asarray(open_image(root / "a.png", spec)).reshape(16, 16, channels)
    assert not reader.read(0).flags.writeable  # the decoded image's pixels, read-only
    chw = reader.read(0)
    assert chw.dtype == np.uint8
    np.testing.assert_array_equal(chw, hwc.transpose(2, 0, 1))
    stored = reader.read(0)
    assert type(stored) is np.ndarray and stored.flags.c_contiguous  # a plain view of the map
    np.testing.assert_array_equal(stored, chw)
    assert cache.complete
    cache.close()


@pytest.mark.parametrize("mode, size", [("RGB", (7, 5)), ("RGB", (256, 256)), ("L", (7, 5))])
def test_chw_array_is_the_image_in_chw_order(mode, size):
    # An RGB image is packed plane by plane; the array must hold exactly its RGB, contiguous
    # (the loader's casts and flips run on whole rows).
    rng = np.random.default_rng(0)
    channels = 3 if mode == "RGB" else 1
    hwc = rng.integers(0, 256, (size[1], size[0], channels), np.uint8)
    im = Image.fromarray(hwc if channels == 3 else hwc[:, :, 0], mode)
    chw = chw_array(im)
    assert chw.shape == (channels, size[1], size[0]) and chw.dtype == np.uint8
    assert chw.flags.c_contiguous
    np.testing.assert_array_equal(chw, hwc.transpose(2, 0, 1))
