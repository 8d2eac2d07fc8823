"""mlimages/audit/hashes.py: gather's dhash, the pixel hash, the quality numbers."""

import numpy
from auditdata import photo
from PIL import Image, ImageFilter

from mlimages.audit import hashes
from mlimages.audit.options import PIXEL_SIZE, WORK_SIZE, AuditOptions
from mlimages.gather.validate import dhash_bits


def _grey(*images):
    """The uint8 batch (n, 128, 128) of the images' grey working copies."""
    return numpy.stack([numpy.asarray(hashes.working_copy(im).convert("L")) for im in images])


def test_the_thumbnail_is_the_mean_of_each_cell_of_a_9x8_grid():
    grey = _grey(photo(1), photo(2))
    edges = [0, 14, 28, 43, 57, 71, 85, 100, 114, 128]
    for g, thumb in zip(grey, hashes.thumbnails(hashes.row_sums(grey))):
        expected = [[g[16 * r:16 * r + 16, a:b].mean() for a, b in zip(edges, edges[1:])]
                    for r in range(8)]
        numpy.testing.assert_allclose(thumb, expected)


def test_look_hashes_follow_gathers_dhash_rule_and_the_mirror_hash_is_the_flipped_images():
    grey = _grey(photo(3), photo(4))
    flipped = grey[:, :, ::-1].copy()
    straight, mirror = hashes.look_hashes(hashes.row_sums(grey))
    thumbs = hashes.thumbnails(hashes.row_sums(grey))
    assert straight == [dhash_bits(t) for t in thumbs]
    assert mirror == [dhash_bits(t[:, ::-1]) for t in thumbs]
    assert hashes.look_hashes(hashes.row_sums(flipped))[0] == mirror


def test_tiny_grey_is_the_rounded_mean_of_8x8_blocks():
    grey = _grey(photo(5))
    [tiny] = hashes.tiny_grey(hashes.row_sums(grey))
    blocks = grey[0].reshape(PIXEL_SIZE, 8, PIXEL_SIZE, 8).sum(axis=(1, 3))
    assert tiny == ((blocks + 32) // 64).astype(numpy.uint8).tobytes()


def test_quality_numbers_tell_blank_blurred_and_grey_apart():
    sharp = photo(1)
    blurred = sharp.filter(ImageFilter.GaussianBlur(4))
    grey = _grey(sharp, blurred, Image.new("RGB", (320, 240), (77, 77, 77)))
    histograms = numpy.array([numpy.bincount(g.ravel(), minlength=256) for g in grey])
    entropy = hashes.entropy(histograms)
    assert entropy[2] == 0 and entropy[0] > 6
    sharpness = hashes.sharpness(grey)
    assert sharpness[1] < AuditOptions().min_sharpness < sharpness[0]
    colours = numpy.stack([numpy.asarray(im, numpy.uint8).reshape(-1, 3)
                           for im in (sharp, sharp.convert("L").convert("RGB"))])
    colourfulness = hashes.colourfulness(colours)
    assert colourfulness[1] == 0 and colourfulness[0] > 10


def test_sharpness_is_the_variance_of_the_laplacian():
    grey = _grey(photo(6), photo(7))
    g = grey.astype(numpy.float64)
    lap = g[:, 1:-1, :-2] + g[:, 1:-1, 2:] + g[:, :-2, 1:-1] + g[:, 2:, 1:-1] - 4 * g[:, 1:-1, 1:-1]
    numpy.testing.assert_allclose(hashes.sharpness(grey), lap.var(axis=(1, 2)), rtol=1e-12)


def test_the_working_copy_reduces_a_large_image_by_an_integer_factor_then_samples_it():
    im = photo(8, (1000, 700))                        # factor 5: 200x140, then sampled
    copy = hashes.working_copy(im)
    assert copy.size == (WORK_SIZE, WORK_SIZE)
    expected = im.reduce(5).resize((WORK_SIZE, WORK_SIZE), Image.Resampling.NEAREST)
    assert copy.tobytes() == expected.tobytes()


def test_pixel_hash_is_equal_for_equal_pixels_only():
    a = photo(2).resize((128, 128))
    b = a.copy()
    b.putpixel((5, 5), (0, 0, 0))
    c = a.convert("L").convert("RGB")                 # the same grey, no colour
    h = [numbers[0] for numbers in hashes.measure([hashes.copy_of(x) for x in (a, a.copy(), b, c)])]
    assert h[0] == h[1] and len(set(h[1:])) == 3


def test_measure_gives_what_each_function_gives_whatever_the_batch():
    images = (photo(4), photo(5).resize((640, 131)), photo(6).convert("L").convert("RGB"),
              photo(9, (90, 60)))
    copies = [hashes.copy_of(im) for im in images]
    batch = hashes.measure(copies)
    assert [hashes.measure([c])[0] for c in copies] == batch
    grey = numpy.stack([numpy.frombuffer(c.grey, numpy.uint8).reshape(WORK_SIZE, WORK_SIZE)
                        for c in copies])
    colours = numpy.stack([numpy.frombuffer(c.colours, numpy.uint8).reshape(-1, 3) for c in copies])
    rows = hashes.row_sums(grey)
    tiny = hashes.tiny_grey(rows)
    histograms = numpy.array([c.histogram for c in copies])
    expected = zip([hashes.pixel_hash(t, c.colours) for t, c in zip(tiny, copies)],
                   *hashes.look_hashes(rows), hashes.entropy(histograms),
                   hashes.sharpness(grey), hashes.colourfulness(colours), tiny)
    assert batch == list(expected)


def test_the_numbers_of_one_photo_are_pinned():
    # A change of any definition (working copy, grid, rounding) shows here: re-run the
    # --near study (benchmarks/study_near.py) before changing these values.
    [numbers] = hashes.measure([hashes.copy_of(photo(3))])
    pixels, straight, mirror, entropy, sharpness, colour, tiny = numbers
    assert (pixels, straight, mirror) == PINNED
    assert (round(entropy, 4), round(sharpness, 2), round(colour, 4)) == PINNED_QUALITY
    assert len(tiny) == PIXEL_SIZE * PIXEL_SIZE


PINNED = ("810a44e8236a09c0c6a7cdf4da009797d2aab6c6", 15955167771294866609, 4956733993701394034)
PINNED_QUALITY = (7.4996, 312.42, 145.3516)
