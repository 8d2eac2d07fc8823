"""mlimages/audit/groups.py (+ scan, hashes) on planted copies: which are caught, and how."""

import hashlib
import io
from pathlib import Path

import pytest
from auditdata import photo, planted_tree
from PIL import Image

from mlimages.audit.groups import find_groups
from mlimages.audit.options import DEFAULT_NEAR
from mlimages.audit.scan import scan_files, with_file_hashes


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    files = planted_tree(root)
    paths = sorted(str(p) for p in files.values())
    return files, paths, scan_files(paths, workers=1, progress=False)


def _group_of(groups, paths, path):
    for g in groups:
        if str(path) in {paths[m.index] for m in g}:
            return {Path(paths[m.index]).name: m for m in g}
    return None


def test_resized_reencoded_mirrored_and_slightly_cropped_copies_are_caught(planted):
    files, paths, scanned = planted
    group = _group_of(find_groups(scanned, DEFAULT_NEAR), paths, files["a/0"])
    assert set(group) == {"0.jpg", "same_bytes.jpg", "jpeg_q40.jpg", "resized_half.jpg",
                          "cropped_2pc.jpg", "mirrored.jpg"}
    assert group["same_bytes.jpg"].match == "bytes"
    assert group["jpeg_q40.jpg"].match == "near"
    assert all(m.distance <= DEFAULT_NEAR for m in group.values())


def test_a_15_percent_crop_is_not_caught(planted):
    # dhash compares neighbouring cells of a 9x8 grid: a crop of 15 % a side moves every
    # cell's content by about a cell's width, so most bits change.
    files, paths, scanned = planted
    assert _group_of(find_groups(scanned, DEFAULT_NEAR), paths, files["cropped_15pc"]) is None


def test_mirrored_copies_need_the_mirror_hash(planted):
    files, paths, scanned = planted
    group = _group_of(find_groups(scanned, DEFAULT_NEAR, mirrored=False), paths, files["a/0"])
    assert "mirrored.jpg" not in group and "jpeg_q40.jpg" in group


def test_same_pixels_in_another_format_match_as_pixels(planted):
    files, paths, scanned = planted
    group = _group_of(find_groups(scanned, -1), paths, files["orig.png"])
    assert {m.match for m in group.values()} == {"kept", "pixels"}


def test_exact_only_finds_no_near_copy(planted):
    files, paths, scanned = planted
    group = _group_of(find_groups(scanned, -1), paths, files["a/0"])
    assert set(group) == {"0.jpg", "same_bytes.jpg"}


def test_distinct_photos_and_the_blank_are_in_no_group(planted):
    files, paths, scanned = planted
    groups = find_groups(scanned, DEFAULT_NEAR)
    for key in ("a/1", "a/5", "b/2", "blank.png", "tiny.png"):
        assert _group_of(groups, paths, files[key]) is None, key


def test_the_largest_image_is_kept_first(planted):
    files, paths, scanned = planted
    for group in find_groups(scanned, DEFAULT_NEAR):
        kept = scanned[group[0].index]
        assert group[0].match == "kept"
        assert all(kept.width * kept.height >= scanned[m.index].width * scanned[m.index].height
                   for m in group)


def test_an_unreadable_file_is_a_value_not_an_error(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"<html>not an image</html>")
    [scanned] = scan_files([bad], workers=1, progress=False)
    assert scanned.error.startswith("not_image")
    assert find_groups([scanned, scanned], 4) == []


def test_the_pool_scans_as_one_process_does(planted, monkeypatch):
    from mlimages.audit import scan
    files, paths, scanned = planted
    monkeypatch.setattr(scan, "PER_WORKER", 1)     # a pool even for these few images
    assert scan.scan_files(paths, workers=2, progress=False) == scanned
    assert scan.scan_files(paths, workers=1, progress=False) == scanned


def test_file_hashes_are_taken_where_pixels_match_and_find_every_same_bytes_pair(planted):
    # Same bytes -> same pixels, so hashing only the files whose pixels another file shares
    # loses no same-bytes pair; the rest are never hashed.
    files, paths, scanned = planted
    by_name = {Path(s.path).relative_to(Path(paths[0]).parents[1]).as_posix(): s
               for s in scanned}
    same = [by_name["a/0.jpg"], by_name["b/same_bytes.jpg"]]
    assert same[0].sha1 == same[1].sha1 == hashlib.sha1(files["a/0"].read_bytes()).hexdigest()
    png = by_name["a/orig.png"]     # a BMP has its pixels, not its size: neither is hashed
    twins = [s for s in scanned if s.pixels == png.pixels and s is not png]
    assert twins and png.sha1 == "" and all(t.sha1 == "" for t in twins)
    alone = [s for s in scanned if sum(o.pixels == s.pixels for o in scanned) == 1]
    assert alone and all(s.sha1 == "" for s in alone)
    brute = {}
    for p in paths:
        brute.setdefault(hashlib.sha1(Path(p).read_bytes()).digest(), []).append(p)
    same_bytes = sorted(sorted(g) for g in brute.values() if len(g) > 1)
    hashed = {}
    for s in scanned:
        if s.sha1:
            hashed.setdefault(s.sha1, []).append(s.path)
    assert sorted(sorted(g) for g in hashed.values() if len(g) > 1) == same_bytes


def test_a_file_gone_before_its_hash_keeps_no_hash(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.new("RGB", (40, 30), (5, 6, 7)).save(a)
    b.write_bytes(a.read_bytes())
    scanned = scan_files([a, b], workers=1, progress=False)
    b.unlink()
    assert [s.sha1 != "" for s in with_file_hashes([s._replace(sha1="") for s in scanned])] \
        == [True, False]


def test_same_size_same_pixels_other_bytes_are_hashed_and_told_apart(tmp_path):
    # Two files of one JPEG with comments of the same length: same pixels, same size, other
    # bytes -> both hashed, "pixels"; a path listed twice is read once and matches itself.
    buf = io.BytesIO()
    photo(3).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    paths = []
    for name, note in (("a.jpg", b"aaaa"), ("b.jpg", b"bbbb")):
        (tmp_path / name).write_bytes(data[:2] + b"\xff\xfe\x00\x06" + note + data[2:])
        paths.append(tmp_path / name)
    scanned = scan_files(paths + paths[:1], workers=1, progress=False)
    a, b, again = scanned
    assert a.pixels == b.pixels and a.nbytes == b.nbytes
    assert a.sha1 and b.sha1 and a.sha1 != b.sha1 and again.sha1 == a.sha1
    [group] = find_groups(scanned, -1)
    assert {m.index: m.match for m in group} == {0: "kept", 1: "pixels", 2: "bytes"}
