"""mlimages/audit/hashes.py: gather's dhash, the pixel hash, the quality numbers."""

import numpy
from auditdata import photo
from PIL import Image, ImageFilter

from mlimages.audit import hashes
from mlimages.gather.validate import dhash


def test_dhash_bits_is_gathers_dhash_on_the_same_thumbnail(tmp_path):
    rng = numpy.random.default_rng(0)
    for k in range(20):
        thumb = rng.integers(0, 256, (8, 9), dtype=numpy.uint8)
        path = tmp_path / f"{k}.png"
        Image.fromarray(thumb, "L").save(path)       # already 9x8: gather resizes nothing
        assert hashes.dhash_bits(thumb) == dhash(path)


def test_the_mirror_hash_is_the_hash_of_the_flipped_image():
    im = photo(3).resize((128, 128)).convert("L")
    flipped = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert hashes.look_hashes(im)[1] == hashes.look_hashes(flipped)[0]


def test_quality_numbers_tell_blank_blurred_and_grey_apart():
    sharp = photo(1).resize((128, 128))
    grey = numpy.asarray(sharp.convert("L"))
    blurred = numpy.asarray(sharp.filter(ImageFilter.GaussianBlur(4)).convert("L"))
    blank = numpy.full((128, 128), 77, numpy.uint8)
    assert hashes.entropy(blank) == 0 and hashes.entropy(grey) > 6
    assert hashes.sharpness(blurred) < 20 < hashes.sharpness(grey)
    assert hashes.colourfulness(numpy.asarray(sharp.convert("L").convert("RGB"))) == 0
    assert hashes.colourfulness(numpy.asarray(sharp)) > 10


def test_pixel_hash_is_equal_for_equal_pixels_only():
    a = photo(2).resize((128, 128))
    b = a.copy()
    b.putpixel((5, 5), (0, 0, 0))
    h = [hashes.pixel_hash(hashes.working_copies(x)[1]) for x in (a, a.copy(), b)]
    assert h[0] == h[1] != h[2]


def test_measure_gives_what_each_function_gives_on_the_working_copies():
    # scan_one takes every number from measure(); it must equal the documented definitions.
    for im in (photo(4), photo(5).resize((640, 131)), photo(6).convert("L").convert("RGB")):
        grey_im, small = hashes.working_copies(im)
        grey = numpy.asarray(grey_im)
        thumb = numpy.asarray(grey_im.resize((9, 8), Image.Resampling.BOX))
        g = grey.astype(numpy.float32)     # the Laplacian as first written, in float32
        lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
        assert hashes.look_hashes(grey_im) == (hashes.dhash_bits(thumb),
                                               hashes.dhash_bits(thumb[:, ::-1]))
        assert hashes.sharpness(grey) == float(lap.var())
        assert hashes.measure(im) == (
            hashes.pixel_hash(small), *hashes.look_hashes(grey_im), hashes.entropy(grey),
            hashes.sharpness(grey), hashes.colourfulness(numpy.asarray(small)),
            hashes.tiny_grey(grey_im))
