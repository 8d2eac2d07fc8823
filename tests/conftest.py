"""Shared fixtures and contract checks for the test suite."""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlimages import listfile
from mlimages.demo.site import Site

os.environ.setdefault("MPLBACKEND", "Agg")


def write_image(path, size=(40, 30), mode="RGB", color=None, fmt=None, seed=0):
    """Write a small noisy image of ``mode`` at ``path``; returns the Path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w, h = size
    data = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    if color is not None:
        data[:] = color
    img = Image.fromarray(data, "RGB")
    if mode != "RGB":
        img = img.convert(mode)
    img.save(path, format=fmt)
    return path


def assert_is_label_list(path, root=None, n_classes=None):
    """Contract check for a written list file: every line 'relpath label',
    POSIX separators, relative paths, labels in range, files present."""
    entries = listfile.read_list(path)
    for entry in entries:
        assert not entry.path.startswith("/"), entry
        assert "\\" not in entry.path, entry
        if n_classes is not None:
            assert 0 <= entry.label < n_classes, entry
        if root is not None:
            assert (Path(root) / entry.path).is_file(), entry
    return entries


@pytest.fixture
def image_tree(tmp_path):
    """A small class-per-folder tree: 3 classes x 4 JPEGs."""
    root = tmp_path / "images"
    for c, name in enumerate(["cat", "dog", "bird"]):
        for i in range(4):
            write_image(root / name / f"{name}{i}.jpg", seed=c * 10 + i)
    return root


@pytest.fixture
def site():
    """The fake image host (:mod:`mlimages.demo.site`) on 127.0.0.1, fresh for one test."""
    with Site() as s:
        yield s


@pytest.fixture
def slow_site():
    """A :class:`Site` that adds 50 ms to every request (for the kill-and-resume tests)."""
    with Site(latency=0.05) as s:
        yield s


@pytest.fixture
def proxy():
    """A :class:`Site` as a forward proxy that wants user "me", password "secret"."""
    with Site(proxy_auth=("me", "secret")) as s:
        yield s


@pytest.fixture
def listed(tmp_path):
    """A list of 4 real images in 2 classes: (list path, root)."""
    root = tmp_path / "images"
    entries = [listfile.Entry(f"c{i % 2}/{i}.jpg", i % 2) for i in range(4)]
    for i, entry in enumerate(entries):
        write_image(root / entry.path, seed=i)
    list_file = tmp_path / "lists" / "train.txt"
    listfile.write_list(list_file, entries)
    return list_file, root
