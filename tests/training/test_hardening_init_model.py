"""Issue 12, item 16: an --init-model that cannot be used is a one-line FinetuneError.

Arrays of the right shape but a complex or string dtype, a header declaring a huge shape (its
array is never allocated: headers are checked before any array is read), and a file none of
whose layers fits the network (it used to train from scratch after "loaded: nothing", and
``--freeze-until`` then froze random layers).
"""

import dataclasses
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mlimages._chainer import chainer
from mlimages.models import build_classifier
from mlimages.training.finetune import read_weights
from mlimages.training.options import FinetuneError, FinetuneOptions
from mlimages.training.run import train
from trainutil import options, small_dataset  # noqa: F401 (fixtures)

HUGE = (100000, 100000, 100)          # 4e12 bytes of float32, declared by a 16-byte member


def small_weights(n_classes=3, crop=32):
    """{"conv1/W": array, ...} of a materialised `small` network."""
    net = build_classifier("small", n_classes).predictor
    with chainer.using_config("train", False):
        net(np.zeros((1, 3, crop, crop), np.float32))
    return {name.lstrip("/"): p.array for name, p in net.namedparams()}


def npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


def lying_npy(shape):
    """An .npy member whose header declares ``shape`` (float32) but holds 16 bytes."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + bytes(16)


def write_npz(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(f"{name}.npy", data if isinstance(data, bytes) else npy(data))
    return path


def finetune(data, out, weights, **tune):
    opts = options(data, out, crop=32, epoch=1)
    return dataclasses.replace(opts, finetune=FinetuneOptions(init_model=str(weights), **tune))


def refused(opts, *words):
    with pytest.raises(FinetuneError) as e:
        train(opts, progress=False)
    message = str(e.value)
    assert "\n" not in message and opts.finetune.init_model in message, message
    for word in words:
        assert word in message, message
    assert not Path(opts.out).exists()                # refused before anything is written
    return message


@pytest.mark.parametrize("dtype", [np.complex64, np.str_])
def test_a_right_shape_of_a_wrong_dtype_is_refused_item16(small_dataset, tmp_path, dtype):
    weights = small_weights()
    weights["conv2/W"] = np.zeros(weights["conv2/W"].shape, dtype)
    path = write_npz(tmp_path / "w.npz", weights)
    refused(finetune(small_dataset, tmp_path / "out", path), "conv2/W",
            np.dtype(dtype).name if dtype is np.complex64 else "<U1")


def test_a_huge_declared_shape_is_never_allocated_item16(small_dataset, tmp_path):
    weights = small_weights()
    members = dict(weights, **{"conv1/W": lying_npy(HUGE)})
    path = write_npz(tmp_path / "w.npz", members)
    with pytest.raises(FinetuneError, match="conv1/W.*declares") as e:
        read_weights(path)
    assert "\n" not in str(e.value)
    refused(finetune(small_dataset, tmp_path / "out", path), "conv1/W", "declares")


def test_arrays_of_other_shapes_are_not_read_item16(small_dataset, tmp_path):
    # Only the arrays of the network's names and shapes are read; the others are headers.
    weights = small_weights()
    members = dict(weights, **{"conv1/W": np.ones((2, 2), np.float32)})
    path = write_npz(tmp_path / "w.npz", members)
    read = read_weights(path, {name: a.shape for name, a in weights.items()})
    assert isinstance(read["conv2/W"], np.ndarray)
    assert read["conv1/W"].shape == (2, 2) and not isinstance(read["conv1/W"], np.ndarray)
    result = train(finetune(small_dataset, tmp_path / "out", path), progress=False)
    assert result.loaded.loaded == ["conv2", "conv3", "fc4", "fc5"]
    assert result.loaded.reinitialised == ["conv1"]


def test_weights_that_match_no_layer_are_an_error_item16(small_dataset, tmp_path):
    path = write_npz(tmp_path / "other.npz", {"dense9/W": np.zeros((2, 2), np.float32),
                                              "dense9/b": np.zeros(2, np.float32)})
    message = refused(finetune(small_dataset, tmp_path / "out", path, freeze_until="conv2"),
                      "nothing", "dense9", "conv1, conv2, conv3, fc4, fc5")
    assert "--freeze-until" in message or "matches" in message


def test_weights_whose_every_shape_differs_are_an_error_item16(small_dataset, tmp_path):
    other = {name: np.zeros(a.shape[:-1] + (a.shape[-1] + 1,), a.dtype)
             for name, a in small_weights().items()}
    path = write_npz(tmp_path / "w.npz", other)
    refused(finetune(small_dataset, tmp_path / "out", path), "nothing", "conv1")
