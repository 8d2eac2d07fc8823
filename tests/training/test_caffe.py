"""Tests for mlimages.training.caffe: Caffe weights and means, converted to RGB / 255 input."""

import numpy as np
import pytest

from mlimages._chainer import chainer
from mlimages.models import build_classifier
from mlimages.training.caffe import caffe_mean_to_rgb, caffe_modules, read_caffemodel
from mlimages.training.finetune import load_matching, read_weights
from mlimages.training.options import FinetuneError


def _blob(pb, blob, array):
    blob.shape.dim.extend(array.shape)
    blob.data.extend(array.ravel().tolist())


def write_caffemodel(path, rng):
    """A tiny Caffe net shaped like ``small``: conv1 (24@6x6, stride 2, pad 2) and conv2
    (48@3x3, pad 1, group 2)."""
    _, pb = caffe_modules()
    net = pb.NetParameter(name="tiny")
    w1, b1 = rng.standard_normal((24, 3, 6, 6)), rng.standard_normal(24)
    w2, b2 = rng.standard_normal((48, 12, 3, 3)), rng.standard_normal(48)
    for name, bottom, w, b, pad, stride, group in (("conv1", "data", w1, b1, 2, 2, 1),
                                                   ("conv2", "conv1", w2, b2, 1, 1, 2)):
        layer = net.layer.add(name=name, type="Convolution", bottom=[bottom], top=[name])
        param = layer.convolution_param
        param.num_output, param.group = w.shape[0], group
        param.kernel_size.append(w.shape[2])
        param.pad.append(pad)
        param.stride.append(stride)
        _blob(pb, layer.blobs.add(), w.astype(np.float32))
        _blob(pb, layer.blobs.add(), b.astype(np.float32))
    path.write_bytes(net.SerializeToString())
    return w1.astype(np.float32), w2.astype(np.float32)


def test_caffe_weights_map_onto_our_layers_for_rgb_scaled_input(tmp_path):
    rng = np.random.default_rng(0)
    w1, w2 = write_caffemodel(tmp_path / "tiny.caffemodel", rng)
    weights = read_caffemodel(tmp_path / "tiny.caffemodel")
    np.testing.assert_array_equal(weights["conv1/W"], w1[:, ::-1] * 255)
    assert weights["conv2/W"].shape == (48, 24, 3, 3)           # groups expanded
    assert not weights["conv2/W"][:24, 12:].any() and not weights["conv2/W"][24:, :12].any()

    np.random.seed(0)
    model = build_classifier("small", 2).predictor
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        model(np.zeros((1, 3, 64, 64), np.float32))  # gives the lazily sized layers weights
    report = load_matching(model, read_weights(tmp_path / "tiny.caffemodel"))
    assert report.loaded == ["conv1", "conv2"] and report.fresh == ["conv3", "fc4", "fc5"]

    CaffeFunction, _ = caffe_modules()
    caffe = CaffeFunction(str(tmp_path / "tiny.caffemodel"))
    bgr255 = rng.uniform(-128, 128, (1, 3, 16, 16)).astype(np.float32)
    rgb_scaled = bgr255[:, ::-1] / 255
    with chainer.no_backprop_mode():
        ref1, ref2 = caffe(inputs={"data": bgr255}, outputs=["conv1", "conv2"])
        ours1 = model.conv1(np.ascontiguousarray(rgb_scaled))
        ours2 = model.conv2(ours1)
    np.testing.assert_allclose(ours1.array, ref1.array, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(ours2.array, ref2.array, rtol=1e-4, atol=1e-2)


def test_caffe_mean_becomes_rgb(tmp_path):
    _, pb = caffe_modules()
    bgr = np.stack([np.full((4, 5), v, np.float32) for v in (10, 20, 30)])[None]
    blob = pb.BlobProto()
    _blob(pb, blob, bgr)
    (tmp_path / "mean.binaryproto").write_bytes(blob.SerializeToString())
    mean = caffe_mean_to_rgb(tmp_path / "mean.binaryproto")
    assert mean.shape == (3, 4, 5) and mean.dtype == np.float32
    assert [float(c[0, 0]) for c in mean] == [30, 20, 10]


def test_a_damaged_caffemodel_is_an_error(tmp_path):
    bad = tmp_path / "bad.caffemodel"
    bad.write_bytes(b"\xff\xff\xff garbage")
    with pytest.raises(FinetuneError, match="bad.caffemodel"):
        read_weights(bad)
