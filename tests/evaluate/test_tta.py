"""mlimages.evaluate.tta: the views of one image (centre, mirror, 10 crops) and their average."""

import numpy as np
import pytest
from PIL import Image

from mlimages.evaluate.infer import class_probabilities
from mlimages.evaluate.model import load_model
from mlimages.evaluate.tta import TTA_VIEWS, make_views, view_params
from mlimages.loader.transforms import crop_params
from colourrun import colour_run


def test_view_counts():
    assert TTA_VIEWS == {"none": 1, "flip": 2, "10crop": 10}
    for mode, count in TTA_VIEWS.items():
        params = view_params(72, 64, mode)
        assert len(params.tops) == len(params.lefts) == len(params.flips) == count


def test_none_is_the_evaluation_loaders_centre_crop():
    ours, loaders = view_params(72, 64, "none"), crop_params(0, 0, 0, 1, 72, 64, train=False)
    assert [list(map(int, a)) for a in ours] == [list(map(int, a)) for a in loaders]


def test_flip_is_the_centre_crop_and_its_mirror():
    p = view_params(73, 64, "flip")
    assert p.tops.tolist() == p.lefts.tolist() == [4, 4] and p.flips.tolist() == [False, True]


def test_10crop_offsets_are_the_4_corners_and_the_centre_each_mirrored():
    p = view_params(72, 64, "10crop")
    places = sorted(zip(p.tops.tolist(), p.lefts.tolist(), p.flips.tolist()))
    corners = [(0, 0), (0, 8), (8, 0), (8, 8), (4, 4)]
    assert places == sorted((t, l, f) for t, l in corners for f in (False, True))


def test_10crop_views_are_the_crops_of_the_image_and_of_its_mirror_minus_the_mean():
    rng = np.random.default_rng(0)
    chw = rng.integers(0, 256, (3, 12, 12), dtype=np.uint8)
    mean = rng.random((3, 12, 12), dtype=np.float32) * 255
    params = view_params(12, 8, "10crop")
    views = make_views(chw, mean, 8, params)
    assert views.shape == (10, 3, 8, 8) and views.dtype == np.float32
    mirror = chw[:, :, ::-1]
    for v, (t, l, f) in enumerate(zip(params.tops, params.lefts, params.flips)):
        image = (mirror if f else chw)[:, t:t + 8, l:l + 8].astype(np.float32)
        np.testing.assert_allclose(views[v], (image - mean[:, t:t + 8, l:l + 8]) / 255,
                                   atol=1e-6)


def test_unknown_mode_names_the_choices():
    with pytest.raises(ValueError, match="none, flip, 10crop"):
        view_params(72, 64, "rotate")


@pytest.fixture(scope="module")
def colour(tmp_path_factory):
    """The colour network of a run whose images are 72 px, cropped to 64."""
    folder = tmp_path_factory.mktemp("tta")
    run, network = load_model(colour_run(folder / "run", 3, image_size=72), "last")
    return folder, run, network


def probs_of(colour, data, tta):
    """The probabilities evaluate gives the 72 x 72 RGB image ``data`` with ``tta``."""
    folder, run, network = colour
    path = folder / "image.png"
    Image.fromarray(data).save(path)
    scored = class_probabilities(network, run, [str(path)], tta=tta)
    assert scored.probs.shape == (1, 3) and scored.probs.dtype == np.float32
    return scored.probs[0]


def test_a_mirror_symmetric_image_gets_the_same_probabilities_from_both_views(colour):
    left = np.zeros((72, 36, 3), np.uint8)
    left[:, :20] = (200, 30, 30)
    left[:, 20:] = (20, 30, 180)
    data = np.concatenate([left, left[:, ::-1]], axis=1)
    np.testing.assert_allclose(probs_of(colour, data, "flip"), probs_of(colour, data, "none"),
                               atol=1e-6)


def test_flip_averages_the_probabilities_of_the_image_and_its_mirror(colour):
    # The network reads the colour at one off-centre position (row 1, column 1 of its 4x4 map),
    # so an image red on the left and blue on the right looks red, its mirror blue.
    data = np.zeros((72, 72, 3), np.uint8)
    data[:, :36] = (220, 0, 0)
    data[:, 36:] = (0, 0, 140)
    plain = probs_of(colour, data, "none")
    mirrored = probs_of(colour, np.ascontiguousarray(data[:, ::-1]), "none")
    assert plain.argmax() == 0 and mirrored.argmax() == 2
    np.testing.assert_allclose(probs_of(colour, data, "flip"), (plain + mirrored) / 2,
                               atol=1e-6)


def test_10crop_is_the_mean_of_the_probabilities_of_its_ten_views(colour):
    from mlimages._chainer import chainer, F
    _, run, network = colour
    data = np.random.default_rng(1).integers(0, 256, (72, 72, 3), dtype=np.uint8)
    views = make_views(data.transpose(2, 0, 1), run.mean, 64, view_params(72, 64, "10crop"))
    with chainer.using_config("train", False):
        each = F.softmax(network(views)).array
    assert not np.allclose(each, each[:1])                # the ten views do differ
    np.testing.assert_allclose(probs_of(colour, data, "10crop"), each.mean(axis=0), atol=1e-6)
