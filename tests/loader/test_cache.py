"""mlimages.loader.cache: the Reader hands out decoded images as contiguous CHW planes."""

import numpy as np
import pytest

from conftest import write_image
from mlimages import listfile
from mlimages.image import ImageSpec, open_image
from mlimages.loader.cache import ImageCache, Reader


@pytest.mark.parametrize("mode, channels", [("RGB", 3), ("L", 1), ("RGBA", 3)])
def test_reader_gives_the_decoded_pixels_as_contiguous_chw_and_caches_them(tmp_path, mode,
                                                                             channels):
    root = tmp_path / "images"
    write_image(root / "a.png", size=(20, 14), mode=mode, seed=3)
    entries = [listfile.Entry("a.png", 0)]
    listed = listfile.write_list(tmp_path / "l.txt", entries)
    spec = ImageSpec(size=16, grayscale=channels == 1)
    cache = ImageCache(tmp_path / "cache", listed, entries, root, 16, spec.resize, channels)
    reader = Reader(root, entries, spec, channels, cache)
    hwc = np.asarray(open_image(root / "a.png", spec)).reshape(16, 16, channels)
    chw = reader.read(0)
    assert chw.dtype == np.uint8 and chw.flags.c_contiguous
    np.testing.assert_array_equal(chw, hwc.transpose(2, 0, 1))
    np.testing.assert_array_equal(reader.read(0), chw)  # now from the cache
    assert cache.complete
    cache.close()
