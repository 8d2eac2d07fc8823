"""Tests for mlimages.training.finetune: loading by layer, freezing, learning-rate scaling."""

import dataclasses
import json

import numpy as np
import pytest

from mlimages._chainer import chainer
from mlimages.models import build_classifier
from mlimages.training.finetune import (freeze, frozen_layers, layer_names, load_matching,
                                        read_weights, scale_pretrained_lr)
from mlimages.training.options import FinetuneError, FinetuneOptions
from mlimages.training.run import train
from trainutil import dataset, make_dataset, options, trained  # noqa: F401 (fixtures)


def materialised(arch, n_classes, insize=32, seed=0):
    """A classifier whose lazily sized layers have weights (one forward pass)."""
    np.random.seed(seed)
    model = build_classifier(arch, n_classes)
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        model.predictor(np.zeros((1, 3, insize, insize), np.float32))
    return model


def arrays(link):
    return {name: p.array.copy() for name, p in link.namedparams()}


# ------------------------------------------------------------------ load by layer
def test_matching_layers_load_and_a_changed_head_is_reinitialised(tmp_path):
    source = materialised("small", 3, seed=1).predictor
    chainer.serializers.save_npz(tmp_path / "model.npz", source)
    target = materialised("small", 2, seed=2).predictor
    fresh_head = target.fc5.W.array.copy()
    report = load_matching(target, read_weights(tmp_path / "model.npz"))
    assert report.loaded == ["conv1", "conv2", "conv3", "fc4"]
    assert report.reinitialised == ["fc5"]
    assert report.fresh == [] and report.unused == []
    assert report.shapes["fc5"] == ({"W": (3, 128), "b": (3,)}, {"W": (2, 128), "b": (2,)})
    for name in ("conv1", "conv2", "conv3", "fc4"):
        assert np.array_equal(target[name].W.array, source[name].W.array)
        assert np.array_equal(target[name].b.array, source[name].b.array)
    assert np.array_equal(target.fc5.W.array, fresh_head)  # kept its own initialisation


def test_classifier_and_snapshot_layouts_are_read_too(tmp_path):
    model = materialised("small", 3)
    chainer.serializers.save_npz(tmp_path / "classifier.npz", model)
    weights = read_weights(tmp_path / "classifier.npz")
    assert "conv1/W" in weights and not any(k.startswith("predictor/") for k in weights)
    np.savez(tmp_path / "snap.npz", **{"updater/model:main/predictor/conv1/W": np.ones(2),
                                       "updater/optimizer:main/t": np.array(3)})
    assert list(read_weights(tmp_path / "snap.npz")) == ["conv1/W"]


def test_batchnorm_statistics_travel_with_their_layer():
    # 67 is the smallest input AlexNet fits (see test_sizes): fc6 gets only 256 inputs.
    source = materialised("alexbn", 3, insize=67).predictor
    source.bn1.avg_mean[...] = 7.0
    target = materialised("alexbn", 4, insize=67).predictor
    from mlimages.training.finetune import model_arrays
    report = load_matching(target, model_arrays(source))
    assert "bn1" in report.loaded and report.reinitialised == ["fc8"]
    assert np.all(target.bn1.avg_mean == 7.0)


def test_weights_of_another_network_are_listed_unused():
    report = load_matching(materialised("small", 2).predictor,
                           {"conv9/W": np.zeros((1, 1, 1, 1), np.float32)})
    assert report.unused == ["conv9"] and report.loaded == []
    assert report.fresh == ["conv1", "conv2", "conv3", "fc4", "fc5"]


def test_unreadable_weights_name_the_file(tmp_path):
    with pytest.raises(FinetuneError, match="no weights file"):
        read_weights(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(FinetuneError, match="bad.npz"):
        read_weights(bad)


def test_loading_needs_materialised_layers():
    with pytest.raises(FinetuneError, match="run the network once"):
        load_matching(build_classifier("small", 2).predictor, {})


# ------------------------------------------------------------------ freezing
def test_layer_names_follow_the_forward_order():
    assert layer_names(build_classifier("alexbn", 2).predictor) == [
        "conv1", "bn1", "conv2", "bn2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]


def test_freeze_until_and_bad_names():
    net = build_classifier("small", 2).predictor
    assert frozen_layers(net, FinetuneOptions(freeze_until="conv3")) == [
        "conv1", "conv2", "conv3"]
    assert frozen_layers(net, FinetuneOptions(freeze=("conv2", "conv1"))) == ["conv1", "conv2"]
    with pytest.raises(FinetuneError, match="conv9: no such layer.*conv1, conv2"):
        frozen_layers(net, FinetuneOptions(freeze=("conv9",)))
    with pytest.raises(FinetuneError, match="--freeze-until pool1"):
        frozen_layers(net, FinetuneOptions(freeze_until="pool1"))
    with pytest.raises(FinetuneError, match="nothing would be trained"):
        frozen_layers(net, FinetuneOptions(freeze_until="fc5"))


def test_freezing_before_the_optimizer_exists_is_refused():
    with pytest.raises(FinetuneError, match="after optimizer.setup"):
        freeze(materialised("small", 2).predictor, ["conv1"])


def test_options_refuse_a_bad_lr_scale():
    with pytest.raises(FinetuneError, match="pretrained_lr_scale"):
        FinetuneOptions(pretrained_lr_scale=2)


def _step(model, scale_layers=(), scale=1.0, frozen=()):
    opt = chainer.optimizers.MomentumSGD(lr=0.1).setup(model)
    opt.add_hook(chainer.optimizer_hooks.WeightDecay(0.01))
    freeze(model.predictor, frozen)
    scale_pretrained_lr(model.predictor, scale_layers, scale)
    x = np.random.default_rng(0).standard_normal((4, 3, 32, 32)).astype(np.float32)
    before = arrays(model.predictor)
    opt.update(model, x, np.array([0, 1, 0, 1], np.int32))
    return before, arrays(model.predictor)


def test_frozen_layers_stay_identical_bit_for_bit():
    before, after = _step(materialised("small", 2), frozen=["conv1", "conv2", "conv3"])
    for name in before:
        same = np.array_equal(before[name], after[name])
        assert same == name.startswith(("/conv1", "/conv2", "/conv3")), name


def test_pretrained_lr_scale_scales_the_step():
    full_before, full_after = _step(materialised("small", 2))
    half_before, half_after = _step(materialised("small", 2), ["conv1"], 0.5)
    full = full_after["/conv1/W"] - full_before["/conv1/W"]
    half = half_after["/conv1/W"] - half_before["/conv1/W"]
    np.testing.assert_allclose(half, full * 0.5, rtol=1e-4, atol=1e-7)
    np.testing.assert_array_equal(half_after["/fc5/W"], full_after["/fc5/W"])


# ------------------------------------------------------------------ a fine-tuning run
def test_fine_tuning_to_other_classes_with_frozen_convolutions(trained, tmp_path):
    """From a 3-class run to a 2-class dataset: conv1-3 frozen, fc5 re-initialised."""
    source, _ = trained
    data = make_dataset(tmp_path / "data", kinds=("dots", "waves"), per_class=8, seed=5)
    opts = options(data, tmp_path / "out", epoch=2)
    opts = dataclasses.replace(opts, finetune=FinetuneOptions(
        init_model=str(source.out / "model.npz"), freeze_until="conv3"))
    result = train(opts, progress=False)
    assert result.loaded.loaded == ["conv1", "conv2", "conv3", "fc4"]
    assert result.loaded.reinitialised == ["fc5"]
    assert result.frozen == ["conv1", "conv2", "conv3"]
    before = read_weights(source.out / "model.npz")
    after = read_weights(result.out / "model.npz")
    for key in ("conv1/W", "conv1/b", "conv2/W", "conv2/b", "conv3/W", "conv3/b"):
        assert np.array_equal(before[key], after[key]), key
    assert not np.array_equal(before["fc4/W"], after["fc4/W"])
    assert after["fc5/W"].shape == (2, 128)
    log = json.loads((result.out / "log").read_text())
    val = [e["validation/main/accuracy"] for e in log if "validation/main/accuracy" in e]
    assert val[-1] >= 0.8                               # chance is 1/2
