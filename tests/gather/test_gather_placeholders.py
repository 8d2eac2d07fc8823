"""Placeholder rules: known.txt, rule files and image files (mlimages/gather/placeholders.py)."""

import hashlib

import pytest

from mlimages.demo.site import image_bytes
from mlimages.gather import GatherError
from mlimages.gather.placeholders import load_placeholders, parse_rules

CAFFE_SHA1 = "6a92790b1c2a301c6e7ddef645dca1f53ea97ac2"


def test_builtin_rules_know_flickr_placeholders():
    rules = load_placeholders()
    assert CAFFE_SHA1 in rules.sha1
    assert rules.match_url("https://s.yimg.com/pw/images/en-us/photo_unavailable.png")
    assert rules.match_url("https://s.yimg.com/pw/images/en-us/photo_unavailable_l.png")
    assert rules.match_url("http://127.0.0.1:8/pw/images/en-us/photo_unavailable.png")
    assert not rules.match_url("https://farm1.staticflickr.com/1/2_abc.jpg")


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

