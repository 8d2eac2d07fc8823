"""Validation of downloaded bodies and placeholder rules (mlimages/gather/validate.py)."""

import hashlib
import io

import pytest

from gather_server import image_bytes, placeholder_image, png_bytes
from mlimages.gather import GatherError
from mlimages.gather.validate import (Placeholders, check_body, dhash, load_placeholders,
                                      parse_rules)

CAFFE_SHA1 = "6a92790b1c2a301c6e7ddef645dca1f53ea97ac2"


def jpeg(im, quality=85):
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_builtin_rules_know_flickr_placeholders():
    rules = load_placeholders()
    assert CAFFE_SHA1 in rules.sha1
    assert rules.match_url("https://s.yimg.com/pw/images/en-us/photo_unavailable.png")
    assert rules.match_url("https://s.yimg.com/pw/images/en-us/photo_unavailable_l.png")
    assert rules.match_url("http://127.0.0.1:8/pw/images/en-us/photo_unavailable.png")
    assert not rules.match_url("https://farm1.staticflickr.com/1/2_abc.jpg")


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


def test_dhash_is_stable_under_reencoding_and_differs_between_images():
    a = placeholder_image((500, 374))
    h = dhash(png_bytes(a))
    assert (h ^ dhash(jpeg(a.resize((250, 187)), 60))).bit_count() <= 5
    assert (h ^ dhash(image_bytes((500, 374), seed=1))).bit_count() > 10
    assert 0 <= h < 2 ** 64


def test_rule_files(tmp_path):
    rules = parse_rules("# c\nsha1 " + "A" * 40 + "\nurl-name Gone.PNG\n"
                        "dhash 00ff00ff00ff00ff 1.333 my placeholder\n", "f")
    assert rules.sha1 == {"a" * 40} and rules.url_names == {"gone.png"}
    assert rules.dhash == ((0x00FF00FF00FF00FF, 1.333, "my placeholder"),)
    for bad in ["sha1 123", "md5 abc", "dhash zz 1.0", "url-name"]:
        with pytest.raises(GatherError, match="not a placeholder rule"):
            parse_rules(bad, "f")
    (tmp_path / "list.txt").write_text("sha1 " + hashlib.sha1(b"x").hexdigest() + "\n")
    assert hashlib.sha1(b"x").hexdigest() in load_placeholders([tmp_path / "list.txt"]).sha1
    (tmp_path / "broken.jpg").write_bytes(image_bytes()[:100])
    with pytest.raises(GatherError, match="broken.jpg"):
        load_placeholders([tmp_path / "broken.jpg"])
    with pytest.raises(GatherError, match="missing"):
        load_placeholders([tmp_path / "missing.png"])
