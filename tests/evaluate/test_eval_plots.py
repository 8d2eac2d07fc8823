"""mlimages.evaluate.plots: confusion.png readable up to 50 classes, a clear fallback above;
the contact sheet of the worst mistakes."""

import io

import numpy as np
from PIL import Image

from mlimages.evaluate.plots import (MAX_LABELLED, confusion_figure, mistakes_figure,
                                     png_bytes)
from mlimages.image import ImageSpec


def matrix(k, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.integers(0, 5, (k, k))
    m[np.arange(k), np.arange(k)] += 20
    return m


def shown(figure):
    axes = figure.axes[0]
    image = axes.images[0].get_array()
    return axes, np.asarray(image), [t.get_text() for t in axes.texts]


def test_small_confusion_has_names_on_both_axes_and_counts_in_cells():
    m = matrix(6)
    m[3] = 0                                  # a class with no images: a row of zeros, no NaN
    names = [f"class{i}" for i in range(6)]
    axes, image, texts = shown(confusion_figure(m, names))
    assert [t.get_text() for t in axes.get_xticklabels()] == names
    assert [t.get_text() for t in axes.get_yticklabels()] == names
    assert sorted(texts) == sorted(str(c) for c in m.ravel() if c)
    rows = image.sum(axis=1)
    np.testing.assert_allclose(np.delete(rows, 3), 1)       # normalised by row
    assert rows[3] == 0 and not np.isnan(image).any()
    assert "true" in axes.get_ylabel() and "predicted" in axes.get_xlabel()


def test_50_classes_are_still_labelled():
    axes, _, texts = shown(confusion_figure(matrix(MAX_LABELLED), [f"c{i}" for i in range(50)]))
    assert MAX_LABELLED == 50
    assert len(axes.get_xticklabels()) == 50 and texts


def test_60_classes_fall_back_to_no_labels_and_say_so():
    names = [f"class{i}" for i in range(60)]
    figure = confusion_figure(matrix(60), names)
    axes, image, texts = shown(figure)
    assert image.shape == (60, 60)
    assert list(axes.get_xticks()) == [] and list(axes.get_yticks()) == []
    assert texts == []
    assert "60 classes" in axes.get_title() and "confusion.csv" in axes.get_title()
    with Image.open(io.BytesIO(png_bytes(figure))) as im:
        assert im.format == "PNG" and max(im.size) <= 1600


def test_mistakes_sheet_shows_the_worst_25(tmp_path):
    paths = []
    for i in range(30):
        path = tmp_path / f"m{i}.png"
        Image.new("RGB", (40, 30), (8 * i, 0, 0)).save(path)
        paths.append(str(path))
    (tmp_path / "m29.png").write_bytes(b"gone bad")                 # cannot be shown: a note
    rows = [(p, 0, 1, 0.99 - i / 100) for i, p in enumerate(paths)]
    rows[24] = (paths[29], 0, 1, 0.5)
    figure = mistakes_figure(rows, ["cat", "dog"], ImageSpec(size=32))
    titled = [a for a in figure.axes if a.get_title()]
    assert len(titled) == 25
    assert titled[0].get_title() == "cat → dog\n99.0%"
    assert any("cannot read" in t.get_text() for a in figure.axes for t in a.texts)


def test_no_mistakes_is_a_sheet_that_says_so():
    figure = mistakes_figure([], ["cat", "dog"], ImageSpec(size=32))
    assert any("no mistakes" in t.get_text() for t in figure.texts)
