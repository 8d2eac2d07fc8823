"""Validation of downloaded bodies (mlimages/gather/validate.py)."""

import io

import numpy
import pytest
from PIL import Image

from mlimages.demo.site import image_bytes, placeholder_image, png_bytes
from mlimages.gather.placeholders import Placeholders, load_placeholders
from mlimages.gather.validate import check_body, dhash, dhash_bits, match_look


def jpeg(im, quality=85):
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.mark.parametrize("body, status", [
    (b"", "empty"),
    (b"<html><body>gone</body></html>", "not_image"),
    (image_bytes((200, 150), seed=1)[:2000], "truncated"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "unsupported"),
])
def test_broken_bodies_get_their_status(body, status):
    assert check_body(body, "http://x/y.jpg", 0, Placeholders()).status == status


def test_good_bodies_are_ok_with_format_and_size():
    verdict = check_body(image_bytes((64, 48), fmt="PNG"), "u", 0, Placeholders())
    assert verdict.status == "ok" and verdict.format == "PNG" and verdict.size == (64, 48)
    assert check_body(image_bytes((64, 48)), "u", 48, Placeholders()).status == "ok"
    assert check_body(image_bytes((64, 47)), "u", 48, Placeholders()).status == "too_small"


def test_a_placeholder_file_rejects_its_bytes_and_its_look(tmp_path):
    ph = placeholder_image((320, 240), "Gone")
    path = tmp_path / "gone.png"
    path.write_bytes(png_bytes(ph))
    rules = load_placeholders([path])
    assert check_body(path.read_bytes(), "u", 0, rules).status == "placeholder"
    smaller = jpeg(ph.resize((160, 120)), quality=70)
    verdict = check_body(smaller, "u", 0, rules)
    assert verdict.status == "placeholder" and "gone.png" in verdict.reason
    photo = image_bytes((320, 240), seed=5)  # same aspect, different look
    assert check_body(photo, "u", 0, rules).status == "ok"


def test_dhash_is_the_bit_rule_on_the_9x8_thumbnail(tmp_path):
    rng = numpy.random.default_rng(0)
    for k in range(20):
        thumb = rng.integers(0, 256, (8, 9), dtype=numpy.uint8)
        path = tmp_path / f"{k}.png"
        Image.fromarray(thumb, "L").save(path)       # already 9x8: gather resizes nothing
        expected = sum(1 << (63 - (r * 8 + c)) for r in range(8) for c in range(8)
                       if thumb[r, c] > thumb[r, c + 1])
        assert dhash_bits(thumb) == expected == dhash(path)


def test_dhash_is_stable_under_reencoding_and_differs_between_images():
    a = placeholder_image((500, 374))
    h = dhash(png_bytes(a))
    assert (h ^ dhash(jpeg(a.resize((250, 187)), 60))).bit_count() <= 5
    assert (h ^ dhash(image_bytes((500, 374), seed=1))).bit_count() > 10
    assert 0 <= h < 2 ** 64


def test_the_look_is_only_compared_at_a_near_aspect_ratio():
    ph = placeholder_image((400, 300), "Gone")
    rules = Placeholders(dhash=((dhash(png_bytes(ph)), 400 / 300, "gone"),))
    assert match_look(rules, png_bytes(ph), (400, 300)).startswith("looks like placeholder gone")
    assert rules.near((400, 300)) and not rules.near((300, 400))
    assert match_look(rules, png_bytes(ph), (300, 400)) is None  # not even hashed

