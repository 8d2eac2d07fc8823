"""Tests for mlimages.pretrained.store: fetch into the cache, convert once, what --init-model loads.

The server is the demo's Site on 127.0.0.1 ($MLIMAGES_PRETRAINED_URL); the file is a tiny
Caffe model written here, and the registry's sha1 for the test is that file's.
"""

import dataclasses
import hashlib

import numpy as np
import pytest

from mlimages.demo.site import ranged
from mlimages.pretrained import registry
from mlimages.pretrained.registry import PretrainedError
from mlimages.pretrained.store import fetch, init_weights
from mlimages.training.caffe import caffe_modules
from mlimages.training.finetune import read_weights
from mlimages.training.npz import NpzArchive
from mlimages.training.options import FinetuneError


def _tiny_caffemodel(path):
    """Two convolutions named as AlexNet's, small shapes: quick to write and read."""
    _, pb = caffe_modules()
    net = pb.NetParameter(name="tiny")
    rng = np.random.default_rng(0)
    for name, bottom, shape in (("conv1", "data", (4, 3, 3, 3)), ("conv2", "conv1", (5, 4, 1, 1))):
        layer = net.layer.add(name=name, type="Convolution", bottom=[bottom], top=[name])
        layer.convolution_param.num_output = shape[0]
        layer.convolution_param.kernel_size.append(shape[2])
        for array in (rng.standard_normal(shape), rng.standard_normal(shape[0])):
            blob = layer.blobs.add()
            blob.shape.dim.extend(array.shape)
            blob.data.extend(array.astype(np.float32).ravel().tolist())
    data = net.SerializeToString()
    path.write_bytes(data)
    return data


@pytest.fixture
def served(site, tmp_path, monkeypatch):
    """bvlc_alexnet served by the Site as a tiny file; the cache in tmp_path/home."""
    data = _tiny_caffemodel(tmp_path / "tiny.caffemodel")
    site.add("/models/bvlc_alexnet.caffemodel", ranged(data))
    monkeypatch.setenv(registry.URL_ENV, site.url("/models"))
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "home"))
    tiny = dataclasses.replace(registry.MODELS["bvlc_alexnet"],
                               sha1=hashlib.sha1(data).hexdigest(), size=len(data))
    monkeypatch.setitem(registry.MODELS, "bvlc_alexnet", tiny)
    return data, tmp_path / "home" / "pretrained"


def test_fetch_downloads_checks_and_converts_once(site, served, tmp_path):
    data, folder = served
    got = fetch("bvlc_alexnet", progress=False)
    assert got.downloaded and got.converted and got.file == folder / "bvlc_alexnet.caffemodel"
    assert got.file.read_bytes() == data
    assert got.weights.name == f"bvlc_alexnet-{got.model.sha1[:8]}.npz"
    with NpzArchive(got.weights) as npz:           # our convention: conv1 as RGB x 255
        assert sorted(npz.keys()) == ["conv1/W", "conv1/b", "conv2/W", "conv2/b"]
        caffe = read_weights(tmp_path / "tiny.caffemodel")
        np.testing.assert_array_equal(npz["conv1/W"], caffe["conv1/W"])
    again = fetch("bvlc_alexnet", progress=False)
    assert not again.downloaded and not again.converted and again.weights == got.weights
    assert site.hits["/models/bvlc_alexnet.caffemodel"] == 1


def test_a_file_placed_by_hand_is_checked_and_a_wrong_one_deleted(site, served):
    data, folder = served
    folder.mkdir(parents=True)
    (folder / "bvlc_alexnet.caffemodel").write_bytes(data)
    assert fetch("bvlc_alexnet", progress=False).converted
    assert site.hits["/models/bvlc_alexnet.caffemodel"] == 0
    for npz in folder.glob("*.npz"):
        npz.unlink()
    (folder / "bvlc_alexnet.caffemodel").write_bytes(data[:-1] + b"\0")
    with pytest.raises(PretrainedError, match="sha1 .* deleted it"):
        fetch("bvlc_alexnet", progress=False)
    assert not (folder / "bvlc_alexnet.caffemodel").exists()


def test_init_weights_resolves_names_and_leaves_paths(served):
    assert init_weights("runs/a/model.npz", "small") == "runs/a/model.npz"
    path = init_weights("bvlc_alexnet", "alex", progress=False)
    assert path.endswith(".npz") and read_weights(path)["conv2/W"].shape == (5, 4, 1, 1)
    with pytest.raises(FinetuneError, match="fit --arch alex, not --arch small"):
        init_weights("bvlc_alexnet", "small")
