"""Tests for mlimages.pretrained.registry: the known models, the cache folder, the URL override."""

import re
from pathlib import Path

import pytest

from mlimages.defaults import ARCH_NAMES
from mlimages.pretrained import registry
from mlimages.pretrained.registry import MODELS, UnknownModel


def test_caffes_two_alexnets_are_known_with_the_model_zoos_facts():
    alex, caffenet = MODELS["bvlc_alexnet"], MODELS["bvlc_reference_caffenet"]
    assert alex.url == "http://dl.caffe.berkeleyvision.org/bvlc_alexnet.caffemodel"
    assert alex.sha1 == "9116a64c0fbe4459d18f4bb6b56d647b63920377"
    assert caffenet.sha1 == "4c8d77deb20ea792f84eb5e6d0a11ca0a8660a46"
    assert caffenet.file == "bvlc_reference_caffenet.caffemodel"
    for m in MODELS.values():
        assert m.arch in ARCH_NAMES and re.fullmatch(r"[0-9a-f]{40}", m.sha1)
        assert "unrestricted" in m.licence and m.source.startswith("https://github.com/BVLC/")


def test_names_and_paths_are_told_apart():
    assert registry.is_name("bvlc_alexnet")
    assert not registry.is_name("./bvlc_alexnet") and not registry.is_name("model.npz")
    with pytest.raises(UnknownModel, match="bvlc_alexnet, bvlc_reference_caffenet"):
        registry.get("resnet50")


def test_the_cache_folder_and_url_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(registry.HOME_ENV, raising=False)
    monkeypatch.delenv(registry.URL_ENV, raising=False)
    assert registry.home() == Path("~/.cache/mlimages").expanduser()
    assert registry.url_of(MODELS["bvlc_alexnet"]) == MODELS["bvlc_alexnet"].url
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path))
    monkeypatch.setenv(registry.URL_ENV, "http://127.0.0.1:9/mirror/")
    assert registry.home() == tmp_path
    assert (registry.url_of(MODELS["bvlc_alexnet"])
            == "http://127.0.0.1:9/mirror/bvlc_alexnet.caffemodel")
