"""The loader's random choices, its batches' indices and its one preprocessing step: pure functions.

Every choice a batch makes (the epoch's order, each crop and flip, the replacement of an
unreadable image) is drawn from ``numpy.random.default_rng([seed, stream, ...])`` with its own
stream tag (0 order, 1 crops, 2 replacements), never from which thread finished first: the
same seed gives the same batches, resumed or not. :func:`place` is the preprocessing shared by
the loader and ``predict``.
"""

from typing import NamedTuple

import numpy

from mlimages.loader import native

_SCALE = numpy.float32(1.0 / 255.0)


class CropParams(NamedTuple):
    """The random choice made for one batch: int64 (B,) offsets and bool (B,) flips."""

    tops: numpy.ndarray
    lefts: numpy.ndarray
    flips: numpy.ndarray


def epoch_order(seed, epoch, count, shuffle=True):
    """The order in which epoch ``epoch`` visits ``count`` images: int64 (count,)."""
    if not shuffle:
        return numpy.arange(count)
    return numpy.random.default_rng([seed, 0, epoch]).permutation(count)


def batch_indices(order, epoch, position, batch_size, count, repeat):
    """The list indices of the batch at ``position`` of ``epoch``, and where the next starts.

    Args:
        order: callable, epoch -> the int64 (count,) order of that epoch (:func:`epoch_order`).
        repeat: a batch that reaches the end of its epoch is completed from the start of the
            next epoch's order; without it, it stays short.

    Returns:
        (indices, next_epoch, next_position): int64 (B,) with B <= batch_size, and where the
        following batch starts.
    """
    indices = order(epoch)[position:position + batch_size]
    next_epoch, next_position = epoch, position + len(indices)
    if next_position >= count:
        next_epoch, next_position = epoch + 1, 0
        rest = batch_size - len(indices)
        if repeat and rest:
            indices = numpy.concatenate([indices, order(epoch + 1)[:rest]])
            next_position = rest
    return indices, next_epoch, next_position


def crop_params(seed, epoch, position, count, size, crop, train=True):
    """Crops and flips of the batch starting at ``position`` of ``epoch``.

    Training: offsets uniform over 0..size-crop, both ends included, and a coin flip each;
    evaluation: the centre crop, never flipped.
    """
    if not train:
        centre = numpy.full(count, (size - crop) // 2)
        return CropParams(centre, centre.copy(), numpy.zeros(count, bool))
    rng = numpy.random.default_rng([seed, 1, epoch, position])
    return CropParams(rng.integers(0, size - crop + 1, count),
                      rng.integers(0, size - crop + 1, count), rng.random(count) < 0.5)


def replacement(seed, plan, slot, attempt, count):
    """The list index that replaces slot ``slot`` of ``plan`` at its ``attempt``-th try."""
    return int(numpy.random.default_rng([seed, 2, plan.epoch, plan.position, slot, attempt])
               .integers(count))


def _word(rows):
    """The widest unsigned integer type that tiles each row of ``rows`` (uint8, its rows
    contiguous), or None when none does (odd width, or strided rows such as an HWC image's
    transposed view)."""
    if rows.dtype != numpy.uint8 or rows.strides[-1] != 1:
        return None
    for word in (numpy.uint64, numpy.uint32, numpy.uint16):
        if rows.shape[-1] % numpy.dtype(word).itemsize == 0:
            return word
    return None


def mirrored(rows, word):
    """``rows[..., ::-1]`` as a new C-contiguous uint8 array, ``word`` from :func:`_word`.

    A copy through a reversed view moves one byte at a time. Here the rows are copied
    forward, their words put in reverse order (in that copy, already in the cache: read
    backwards from a file's map this step alone is ~3x slower), and each word's bytes
    swapped: the same bytes several times faster.
    """
    words = rows.copy().view(word)
    out = words[..., ::-1].copy()  # a copy even when a row is one word
    return out.byteswap(inplace=True).view(numpy.uint8)


def crop_view(chw, top, left, flip, crop):
    """The (C, crop, crop) window of ``flip(chw)`` at ``top``, ``left``: a view of ``chw``,
    or with ``flip`` where rows can be mirrored by words, of a mirrored copy of its rows
    top..top+crop."""
    rows = chw[:, top:top + crop]
    if not flip:
        return rows[:, :, left:left + crop]
    word = _word(rows)
    if word is not None:
        return mirrored(rows, word)[:, :, left:left + crop]
    # Columns left..left+crop of the flipped image are these columns, read backwards.
    width = chw.shape[2]
    return rows[:, :, width - left - crop:width - left][:, :, ::-1]


def crop_into(out, image, top, left, flip, crop):
    """Write the window of :func:`crop_view` into ``out`` (uint8 (C, crop, crop)); ``image``
    as for :func:`place`."""
    if isinstance(image, native.Pixels):
        if native.crop_pixels(out, image, top, left, flip, crop):
            return
        image = chw_array(image.image)
    out[...] = crop_view(image, top, left, flip, crop)


def normalize(out, window, mean, top, left):
    """``out = (window - mean[:, top:top+crop, left:left+crop]) / 255`` in float32.

    ``window`` is uint8 (C, crop, crop) (a crop, e.g. a :func:`crop_view`), ``mean`` float32
    (C, S, S) or (C, 1, 1), ``out`` float32 (C, crop, crop). Subtract, then multiply by
    float32(1/255): the same two roundings wherever it runs (the loader, ``predict``, the
    device with ``normalize="device"``).
    """
    crop = window.shape[-1]
    if mean.shape[1] > 1:
        mean = mean[:, top:top + crop, left:left + crop]
    # Convert, subtract, scale as three passes: NumPy's plain cast loop and float32 loops
    # beat one mixed-type subtraction (which casts through buffers) by ~25 %; same result.
    numpy.copyto(out, window)
    out -= mean
    out *= _SCALE


def place(out, image, mean, top, left, flip, crop):
    """Write one preprocessed example into ``out`` (float32 (C, crop, crop)).

    ``out = (flip(image)[:, top:top+crop, left:left+crop] - mean[:, same]) / 255`` where
    ``image`` is uint8 planes (C, S, S) (:func:`chw_array`) or a decoded RGB image's
    :class:`~mlimages.loader.native.Pixels`, and ``mean`` float32 (C, S, S) or (C, 1, 1): in
    one compiled pass where :mod:`mlimages.loader.native` can, else by :func:`normalize`; the
    same bits.
    """
    if isinstance(image, native.Pixels):
        if native.place_pixels(out, image, mean, top, left, flip, crop, _SCALE):
            return
        image = chw_array(image.image)
    if not native.place(out, image, mean, top, left, flip, crop, _SCALE):
        normalize(out, crop_view(image, top, left, flip, crop), mean, top, left)


def chw_array(im):
    """Decoded image ``im`` ("RGB": C = 3, or "L": 1) as a read-only C-contiguous uint8
    (C, H, W) array.

    An RGB image's planes are packed by Pillow one band at a time (``tobytes("raw", "R")``,
    ...): each crop row is then contiguous, so the float32 cast and a flip (by words) run on
    whole rows, where a view of the interleaved pixels would read every fourth byte (measured:
    benchmarks/RESULTS.md, 2026-12-03).
    """
    if im.mode == "RGB":
        width, height = im.size
        planes = b"".join(im.tobytes("raw", band) for band in "RGB")
        return numpy.frombuffer(planes, numpy.uint8).reshape(3, height, width)
    return numpy.asarray(im)[numpy.newaxis]
