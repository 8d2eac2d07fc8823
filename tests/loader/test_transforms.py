"""The loader's pure functions (mlimages/loader/transforms.py): orders, batches, crops, place."""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from mlimages.loader.transforms import (_SCALE, _word, batch_indices, chw_array, crop_params,
                                        epoch_order, mirrored, place, replacement)


def test_epoch_order_is_a_seeded_permutation_per_epoch():
    first = epoch_order(5, 0, 50)
    assert sorted(first.tolist()) == list(range(50))
    np.testing.assert_array_equal(first, epoch_order(5, 0, 50))
    assert not np.array_equal(first, epoch_order(5, 1, 50))
    assert not np.array_equal(first, epoch_order(6, 0, 50))
    np.testing.assert_array_equal(epoch_order(5, 3, 50, shuffle=False), np.arange(50))


def test_batch_indices_continue_into_the_next_epoch_only_when_repeating():
    def order(epoch):
        return np.arange(10) + 100 * epoch

    indices, epoch, position = batch_indices(order, 0, 4, 4, 10, repeat=True)
    assert (indices.tolist(), epoch, position) == ([4, 5, 6, 7], 0, 8)
    indices, epoch, position = batch_indices(order, 0, 8, 4, 10, repeat=True)
    assert (indices.tolist(), epoch, position) == ([8, 9, 100, 101], 1, 2)
    indices, epoch, position = batch_indices(order, 0, 8, 4, 10, repeat=False)
    assert (indices.tolist(), epoch, position) == ([8, 9], 1, 0)
    indices, epoch, position = batch_indices(order, 0, 6, 4, 10, repeat=True)
    assert (indices.tolist(), epoch, position) == ([6, 7, 8, 9], 1, 0)


def test_training_crops_reach_every_offset_and_both_flips_reproducibly():
    crops = crop_params(3, 0, 0, 2000, 10, 8, train=True)
    assert set(crops.tops.tolist()) == set(crops.lefts.tolist()) == {0, 1, 2}  # 2 included
    assert set(crops.flips.tolist()) == {False, True}
    again = crop_params(3, 0, 0, 2000, 10, 8, train=True)
    for a, b in zip(crops, again):
        np.testing.assert_array_equal(a, b)
    other = crop_params(3, 0, 32, 2000, 10, 8, train=True)
    assert not np.array_equal(crops.tops, other.tops)


@pytest.mark.parametrize("size, crop, centre", [(16, 12, 2), (10, 10, 0), (11, 8, 1)])
def test_evaluation_crops_are_centred_and_never_flipped(size, crop, centre):
    crops = crop_params(3, 0, 0, 5, size, crop, train=False)
    assert crops.tops.tolist() == crops.lefts.tolist() == [centre] * 5
    assert not crops.flips.any()


def test_replacement_is_drawn_from_the_seed_plan_slot_and_attempt():
    plan = SimpleNamespace(epoch=2, position=8)
    draws = [replacement(1, plan, 0, attempt, 100) for attempt in range(1, 30)]
    assert draws == [replacement(1, plan, 0, attempt, 100) for attempt in range(1, 30)]
    assert all(0 <= d < 100 for d in draws) and len(set(draws)) > 1
    assert draws != [replacement(1, plan, 1, attempt, 100) for attempt in range(1, 30)]


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("mean_shape", [(3, 10, 10), (3, 1, 1)])
def test_place_flips_crops_subtracts_the_mean_crop_and_scales(flip, mean_shape):
    rng = np.random.default_rng(0)
    chw = rng.integers(0, 256, (3, 10, 10), dtype=np.uint8)
    mean = rng.uniform(0, 255, mean_shape).astype(np.float32)
    out = np.empty((3, 6, 6), np.float32)
    place(out, chw, mean, 1, 3, flip, 6)
    image = chw[:, :, ::-1] if flip else chw
    window = (slice(None), slice(1, 7), slice(3, 9))
    want = image[window] - (mean[window] if mean_shape[1] > 1 else mean)
    np.testing.assert_allclose(out, want / np.float32(255), rtol=1e-6)


@pytest.mark.parametrize("width", [2, 4, 6, 8, 12, 24, 256])
def test_mirrored_is_a_reversed_copy_and_leaves_its_input_alone(width):
    rng = np.random.default_rng(width)
    chw = rng.integers(0, 256, (3, 9, width), dtype=np.uint8)
    for rows in (chw, chw[:, 2:7], chw[1:2]):
        before = rows.copy()
        out = mirrored(rows, _word(rows))
        np.testing.assert_array_equal(out, before[..., ::-1])
        assert out.flags.c_contiguous and out.dtype == np.uint8
        np.testing.assert_array_equal(rows, before)


def test_rows_are_mirrored_by_words_only_when_contiguous_and_of_even_width():
    chw = np.zeros((3, 4, 12), np.uint8)
    assert _word(chw) is np.uint32 and _word(chw[:, 1:3]) is np.uint32
    assert _word(np.zeros((1, 2, 16), np.uint8)) is np.uint64
    assert _word(np.zeros((3, 4, 6), np.uint8)) is np.uint16
    assert _word(np.zeros((3, 4, 7), np.uint8)) is None
    assert _word(np.zeros((4, 12, 3), np.uint8).transpose(2, 0, 1)) is None  # HWC's view


@pytest.mark.parametrize("size, crop", [(16, 12), (13, 9), (10, 10), (256, 227)])
def test_place_equals_subtract_then_scale_of_the_flipped_crop_bit_for_bit(size, crop):
    rng = np.random.default_rng(size)
    contiguous = rng.integers(0, 256, (3, size, size), dtype=np.uint8)
    hwc_view = np.ascontiguousarray(contiguous.transpose(1, 2, 0)).transpose(2, 0, 1)
    mean = rng.uniform(0, 255, (3, size, size)).astype(np.float32)
    out = np.empty((3, crop, crop), np.float32)
    for chw, top, left, flip in itertools.product(
            (contiguous, hwc_view), (0, size - crop), (0, size - crop), (True, False)):
        place(out, chw, mean, top, left, flip, crop)
        window = (slice(None), slice(top, top + crop), slice(left, left + crop))
        image = chw[:, :, ::-1] if flip else chw
        want = (image[window].astype(np.float32) - mean[window]) * _SCALE
        np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("mode, size", [("RGB", (7, 5)), ("RGB", (256, 256)), ("L", (7, 5))])
def test_chw_array_is_the_image_in_chw_order(mode, size):
    # An RGB image is packed plane by plane; the array must hold exactly its RGB, contiguous
    # (the loader's casts and flips run on whole rows).
    rng = np.random.default_rng(0)
    channels = 3 if mode == "RGB" else 1
    hwc = rng.integers(0, 256, (size[1], size[0], channels), np.uint8)
    im = Image.fromarray(hwc if channels == 3 else hwc[:, :, 0], mode)
    chw = chw_array(im)
    assert chw.shape == (channels, size[1], size[0]) and chw.dtype == np.uint8
    assert chw.flags.c_contiguous
    np.testing.assert_array_equal(chw, hwc.transpose(2, 0, 1))
