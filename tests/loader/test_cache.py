"""mlimages.loader.cache: the Reader hands out the same CHW pixels decoded and cached."""

import numpy as np
import pytest

from conftest import write_image
from mlimages import listfile
from mlimages.image import ImageSpec, open_image
from mlimages.loader import native
from mlimages.loader.cache import ImageCache, Reader
from mlimages.loader.transforms import chw_array, place


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



@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_without_a_cache_an_rgb_image_is_handed_out_as_pillows_pixels(tmp_path, mode):
    root = tmp_path / "images"
    write_image(root / "a.png", size=(20, 14), mode=mode, seed=4)
    entries = [listfile.Entry("a.png", 0)]
    spec = ImageSpec(size=16, grayscale=mode == "L")
    image = Reader(root, entries, spec, None).read(0)
    planes = chw_array(open_image(root / "a.png", spec))
    if mode == "L" or native.library() is None:  # planes: one byte a pixel, or no loops
        np.testing.assert_array_equal(image, planes)
        return
    assert isinstance(image, native.Pixels)  # no copy into planes: the loops read it there
    mean = np.random.default_rng(0).uniform(0, 255, (3, 16, 16)).astype(np.float32)
    got, want = (np.empty((3, 12, 12), np.float32) for _ in range(2))
    place(got, image, mean, 1, 2, True, 12)
    place(want, planes, mean, 1, 2, True, 12)
    np.testing.assert_array_equal(got, want)
