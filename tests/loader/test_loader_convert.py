"""mlimages.loader.convert: normalize="device" gives uint8 crops that the converter turns into
exactly the host path's batches."""

import numpy as np
import pytest

from conftest import write_image
from mlimages import listfile
from mlimages.loader import Batch, BatchLoader, RawBatch, converter


def make_list(tmp_path, count=9):
    root = tmp_path / "images"
    for i in range(count):
        write_image(root / f"{i}.jpg", size=(20 + i, 18), seed=i)
    entries = [listfile.Entry(f"{i}.jpg", i % 3) for i in range(count)]
    return listfile.write_list(tmp_path / "l.txt", entries), root


@pytest.mark.parametrize("mean", ["image", "channels", None])
@pytest.mark.parametrize("processes", [True, False])
def test_device_normalization_equals_the_host_path(tmp_path, mean, processes):
    listed, root = make_list(tmp_path)
    rng = np.random.default_rng(3)
    means = {"image": rng.uniform(0, 255, (3, 16, 16)).astype(np.float32),
             "channels": np.array([120.5, 99.25, 80.0], np.float32), None: None}
    common = dict(seed=4, workers=2, processes=processes, size=16)
    with BatchLoader(listed, root, means[mean], 13, 4, **common) as host, \
            BatchLoader(listed, root, means[mean], 13, 4, normalize="device", **common) as raw:
        for _ in range(5):  # past the end of an epoch
            want, got = next(host), next(raw)
            assert isinstance(want, Batch) and isinstance(got, RawBatch)
            assert got.x.dtype == np.uint8 and got.x.shape == (4, 3, 13, 13)
            x, t = converter(got, None)
            assert x.dtype == np.float32
            np.testing.assert_array_equal(x, want.x)  # bit for bit, not within a tolerance
            np.testing.assert_array_equal(t, want.t)


def test_normalize_must_be_host_or_device(tmp_path):
    listed, root = make_list(tmp_path, 3)
    from mlimages.loader import LoaderError
    with pytest.raises(LoaderError, match="normalize='gpu'.*host.*device"):
        BatchLoader(listed, root, None, 8, 2, normalize="gpu")
