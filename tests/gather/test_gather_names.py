"""Safe names for downloads (mlimages/gather/names.py)."""

import pytest

from mlimages.gather.names import (NameRegistry, extension, file_stem, inside, safe_component,
                                   safe_folder)

HOSTILE = ["../../etc/passwd", "/etc/shadow", "..", ".", "", "   ", ".bashrc", "a/b\\c",
           "con", "NUL.txt", "a\x00b", "tab\there", "esc\x1b[31m", "rtl\u202etxt.exe",
           "line\u2028sep", "x" * 1000, "é" * 200, "\udcff-surrogate", "C:\\Windows\\x"]


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_component_is_one_visible_bounded_name(text):
    name = safe_component(text)
    assert name and name not in (".", "..") and not name.startswith(".")
    assert "/" not in name and "\\" not in name and ":" not in name
    assert all(ord(c) >= 32 and ord(c) != 127 and not 0xD800 <= ord(c) <= 0xDFFF for c in name)
    assert "\u202e" not in name and "\u2028" not in name
    assert len(name.encode("utf-8")) <= 120
    assert name.split(".")[0].lower() not in ("con", "nul")


def test_safe_folder_keeps_nesting_but_drops_dot_parts():
    assert safe_folder("cat/persian_cat") == "cat/persian_cat"
    assert safe_folder("../../../tmp/x") == "tmp/x"
    assert safe_folder("/abs\\win/..") == "abs/win"
    assert safe_folder("") == ""


def test_file_stem_from_id_or_url():
    assert file_stem("http://farm1/x.jpg", "n02121808_1234") == "n02121808_1234"
    a = file_stem("http://one.example/photos/image.jpg")
    b = file_stem("http://two.example/image.jpg")
    assert a.startswith("image_") and b.startswith("image_") and a != b
    assert file_stem("http://a/..%2f..%2fetc%2fpasswd.jpg").startswith("_.._etc_passwd_")
    assert file_stem("http://a/").startswith("image_")
    assert file_stem("http://a/" + "%41" * 500 + ".jpg").startswith("AAAA")
    assert len(file_stem("http://a/" + "%41" * 500 + ".jpg").encode()) <= 120
    assert file_stem("http://a/b.jpg") == file_stem("http://a/b.jpg")  # stable


def test_extension_of_the_decoded_format():
    assert extension("JPEG") == ".jpg" and extension("PNG") == ".png"
    assert extension("WEBP") == ".webp"
    assert extension("../X") == "._x"


def test_registry_never_gives_one_name_twice_even_by_case():
    names = NameRegistry()
    a = names.claim("cats", "same", ".jpg", "http://a/1")
    b = names.claim("cats", "SAME", ".png", "http://a/2")
    c = names.claim("dogs", "same", ".jpg", "http://a/3")
    assert a == "cats/same.jpg" and c == "dogs/same.jpg"
    assert b.startswith("cats/SAME_") and b.endswith(".png")
    assert names.claim("cats", "same", ".jpg", "http://a/1") == a  # the owner gets it again
    names.release(a, "http://a/1")
    assert names.claim("cats", "same", ".jpg", "http://a/4") == "cats/same.jpg"
    names.add("cats/old.jpg", "http://old")
    assert names.claim("cats", "old", ".jpg", "http://new") != "cats/old.jpg"


def test_inside(tmp_path):
    assert inside(tmp_path, "a/b.jpg")
    assert not inside(tmp_path, "../b.jpg")
    assert not inside(tmp_path, "/etc/passwd")
    assert not inside(tmp_path, "a/../../b.jpg")
    assert not inside(tmp_path, "")
