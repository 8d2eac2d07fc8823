"""Tiny Caffe models for the tests, written through Chainer's own ``caffe_pb2``.

:func:`alexnet_convs` has the real layer names and shapes of ``bvlc_alexnet``'s convolutions
(conv1..conv5; conv2, conv4 and conv5 in two groups, as Caffe's AlexNet), small random
weights and no fully connected layers: 9 MB instead of 233, enough for ``--init-model`` to
load every convolution into ``--arch alex`` (the fc layers stay fresh at another crop anyway).
"""

import hashlib

import numpy as np

from mlimages.training.caffe import caffe_modules

#: (name, bottom, out, in per group, kernel, stride, pad, group), as in Caffe's AlexNet.
ALEXNET_CONVS = (("conv1", "data", 96, 3, 11, 4, 0, 1),
                 ("conv2", "conv1", 256, 48, 5, 1, 2, 2),
                 ("conv3", "conv2", 384, 256, 3, 1, 1, 1),
                 ("conv4", "conv3", 384, 192, 3, 1, 1, 2),
                 ("conv5", "conv4", 256, 192, 3, 1, 1, 2))


def _blob(blob, array):
    blob.shape.dim.extend(array.shape)
    blob.data.extend(array.ravel().tolist())


def alexnet_convs(path, seed=0):
    """Write the model to ``path``; returns (its bytes, their sha1 hex)."""
    _, pb = caffe_modules()
    rng = np.random.default_rng(seed)
    net = pb.NetParameter(name="AlexNet")
    for name, bottom, out, inp, k, stride, pad, group in ALEXNET_CONVS:
        layer = net.layer.add(name=name, type="Convolution", bottom=[bottom], top=[name])
        param = layer.convolution_param
        param.num_output, param.group = out, group
        param.kernel_size.append(k)
        param.pad.append(pad)
        param.stride.append(stride)
        _blob(layer.blobs.add(), (rng.standard_normal((out, inp, k, k)) * 0.01).astype(np.float32))
        _blob(layer.blobs.add(), np.full(out, 0.1, np.float32))
    data = net.SerializeToString()
    path.write_bytes(data)
    return data, hashlib.sha1(data).hexdigest()


_made = {}


def alexnet_convs_once(folder):
    """:func:`alexnet_convs` written once per test session (3 s of pure-Python protobuf) into
    ``folder``; returns (path, bytes, sha1)."""
    if "alexnet" not in _made:
        path = folder / "tiny_alexnet.caffemodel"
        _made["alexnet"] = (path, *alexnet_convs(path))
    return _made["alexnet"]
