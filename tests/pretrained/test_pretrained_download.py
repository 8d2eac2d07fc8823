"""Tests for mlimages.pretrained.download: real HTTP on 127.0.0.1 (the demo's Site)."""

import hashlib
import socket

import pytest

from mlimages.demo.site import Answer, not_found, photo, ranged
from mlimages.pretrained.download import download, sha1_of
from mlimages.pretrained.registry import PretrainedError

BODY = bytes(range(256)) * 4000          # 1,024,000 bytes
SHA1 = hashlib.sha1(BODY).hexdigest()


def test_a_download_is_checked_and_renamed_into_place(site, tmp_path):
    url = site.add("/w.caffemodel", ranged(BODY))
    dest = tmp_path / "cache" / "w.caffemodel"
    assert download(url, dest, SHA1, len(BODY), progress=False) == dest
    assert dest.read_bytes() == BODY and sha1_of(dest) == SHA1
    assert not (tmp_path / "cache" / "w.caffemodel.part").exists()
    assert site.seen_ranges == [None]


def test_a_partial_download_resumes_with_a_range_request(site, tmp_path):
    url = site.add("/w.caffemodel", ranged(BODY))
    dest = tmp_path / "w.caffemodel"
    (tmp_path / "w.caffemodel.part").write_bytes(BODY[:300_001])
    download(url, dest, SHA1, None, progress=False)
    assert site.seen_ranges == ["bytes=300001-"]
    assert dest.read_bytes() == BODY


def test_a_download_that_breaks_off_is_kept_and_resumed_by_the_next_call(site, tmp_path):
    cut = Answer(200, BODY[:400_000], {"Content-Length": str(len(BODY))}, length=False)
    url = site.add("/w.caffemodel", cut, ranged(BODY))
    dest = tmp_path / "w.caffemodel"
    with pytest.raises(PretrainedError, match="400000 .*again to resume"):
        download(url, dest, SHA1, None, progress=False)
    assert (tmp_path / "w.caffemodel.part").stat().st_size == 400_000 and not dest.exists()
    download(url, dest, SHA1, None, progress=False)
    assert site.seen_ranges == [None, "bytes=400000-"] and dest.read_bytes() == BODY


def test_a_server_that_ignores_range_sends_it_all_again(site, tmp_path):
    url = site.add("/w.caffemodel", photo(BODY))      # a plain 200, whatever the Range
    dest = tmp_path / "w.caffemodel"
    (tmp_path / "w.caffemodel.part").write_bytes(b"x" * 1000)
    download(url, dest, SHA1, len(BODY), progress=False)
    assert site.seen_ranges == ["bytes=1000-"] and dest.read_bytes() == BODY


def test_a_whole_part_file_answered_416_is_checked_and_used(site, tmp_path):
    url = site.add("/w.caffemodel", ranged(BODY))
    dest = tmp_path / "w.caffemodel"
    (tmp_path / "w.caffemodel.part").write_bytes(BODY)
    download(url, dest, SHA1, len(BODY), progress=False)
    assert site.seen_ranges == [f"bytes={len(BODY)}-"] and dest.read_bytes() == BODY


def test_a_sha1_mismatch_deletes_the_file_and_says_so(site, tmp_path):
    url = site.add("/w.caffemodel", ranged(BODY[:-1] + b"!"))
    dest = tmp_path / "w.caffemodel"
    with pytest.raises(PretrainedError, match=f"sha1 .* is not {SHA1}.*deleted it") as e:
        download(url, dest, SHA1, None, progress=False)
    assert "\n" not in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_a_size_mismatch_is_refused_before_the_sha1(site, tmp_path):
    url = site.add("/w.caffemodel", ranged(BODY + b"more"))
    with pytest.raises(PretrainedError, match=f"more than the {len(BODY)} .*deleted it"):
        download(url, tmp_path / "w.caffemodel", SHA1, len(BODY), progress=False)
    assert list(tmp_path.iterdir()) == []


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_is_one_line_naming_the_url_and_how_to_place_the_file(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/bvlc_alexnet.caffemodel"
    dest = tmp_path / "bvlc_alexnet.caffemodel"
    with pytest.raises(PretrainedError) as e:
        download(url, dest, SHA1, None, progress=False)
    message = str(e.value)
    assert "\n" not in message and f"cannot download {url}" in message
    assert f"copy it to {dest} (sha1 {SHA1})" in message
    assert "--init-model /path/to/bvlc_alexnet.caffemodel" in message


def test_an_http_error_names_the_status(site, tmp_path):
    url = site.add("/w.caffemodel", not_found())
    with pytest.raises(PretrainedError, match=f"cannot download {url}: HTTP 404"):
        download(url, tmp_path / "w.caffemodel", SHA1, None, progress=False)
