"""Guards of mlimages/image/ against hostile files: JPEG scan bombs (issue 12, item 3) and
formats outside the opened list (item 12), both refused before any pixel is decoded."""

import io
import subprocess
import sys

import numpy
import pytest
from PIL import IcoImagePlugin, Image, ImageFile

from bombs import ico_with_png_frame, scan_bomb, scan_bounds
from mlimages import image
from mlimages.image import ImageError, LabeledImage, open_image, verify_image


def scans_in(data):
    return len(scan_bounds(data))


# --- item 3: a decode has no deadline -----------------------------------------------------


def _jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(buf, "JPEG")
    return buf.getvalue()


def _decodes(monkeypatch):
    """Record every decode (Pillow's ``ImageFile.load``) from now on."""
    loads, real = [], ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda im: loads.append(im) or real(im))
    return loads


def test_scan_bomb_jpeg_is_refused_item3(tmp_path, monkeypatch):
    data = scan_bomb(1024, 1000)
    assert scans_in(data) == 1006 and len(data) < 50_000
    path = tmp_path / "bomb.jpg"
    path.write_bytes(data)
    decodes = _decodes(monkeypatch)
    for call in (verify_image, open_image, lambda p: LabeledImage(p, 0).load(size=64)):
        with pytest.raises(ImageError) as info:
            call(path)
        assert info.value.reason == "too_complex", info.value
        assert str(path) in str(info.value) and str(image.MAX_JPEG_SCANS) in str(info.value)
        assert decodes == []  # refused before decoding
    open_image(_jpeg())
    assert decodes  # (the spy does see a decode)
    with pytest.raises(ImageError, match="too_complex"):
        verify_image(data, name="http://x/bomb.jpg")


def test_scan_count_at_the_limit_is_still_decoded_item3():
    at_limit = scan_bomb(64, image.MAX_JPEG_SCANS - 6)
    assert scans_in(at_limit) == image.MAX_JPEG_SCANS
    assert verify_image(at_limit) == ("JPEG", (64, 64))
    with pytest.raises(ImageError, match="too_complex"):
        verify_image(scan_bomb(64, image.MAX_JPEG_SCANS - 5))


def test_ordinary_jpegs_pass_the_scan_guard_item3():
    rng = numpy.random.default_rng(0)
    arr = rng.integers(0, 256, (96, 128, 3), numpy.uint8)
    for params in ({}, {"progressive": True}, {"progressive": True, "quality": 100},
                   {"restart_marker_blocks": 1}):
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "JPEG", **params)
        assert verify_image(buf.getvalue()) == ("JPEG", (128, 96))
        assert open_image(buf.getvalue()).size == (128, 96)


def test_scan_marker_bytes_inside_a_segment_are_not_counted_item3():
    # Over MAX_JPEG_SCANS FF DA pairs in a comment: the quick count says "maybe too many",
    # the marker walk (which skips segment payloads) finds the one real scan. (Progressive:
    # a sequential file whose first scan holds every component is not counted at all.)
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(buf, "JPEG", progressive=True)
    data = buf.getvalue()
    scans = scans_in(data)
    comment = b"\xff\xda" * (image.MAX_JPEG_SCANS + 10)
    data = data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]
    assert data.count(b"\xff\xda") > image.MAX_JPEG_SCANS and scans_in(data) == scans < 20
    assert verify_image(data) == ("JPEG", (40, 30))


def _counting_scans(monkeypatch):
    """Record the inputs whose scans the guard counts (``_decode.too_many_scans``' calls)."""
    counted = []
    real = image._decode.too_many_scans

    def spy(data, *args):
        counted.append(len(data))
        return real(data, *args)

    monkeypatch.setattr(image._decode, "too_many_scans", spy)
    return counted


def test_a_sequential_jpeg_with_one_interleaved_scan_is_not_counted(monkeypatch):
    # libjpeg decodes such a file in one scan (a second SOS is an error: "expected EOI"), so
    # it cannot be a scan bomb and its bytes need no pass; every other JPEG is counted.
    counted = _counting_scans(monkeypatch)
    arr = numpy.random.default_rng(0).integers(0, 256, (48, 64, 3), numpy.uint8)
    for mode, params, counts in (("RGB", {}, False), ("L", {}, False), ("CMYK", {}, False),
                                 ("RGB", {"progressive": True}, True),
                                 ("L", {"progressive": True}, True)):
        buf = io.BytesIO()
        Image.fromarray(arr).convert(mode).save(buf, "JPEG", **params)
        counted.clear()
        assert open_image(buf.getvalue()).size == (64, 48)
        assert bool(counted) == counts, (mode, params)
    counted.clear()
    with pytest.raises(ImageError, match="too_complex"):
        verify_image(scan_bomb(64, image.MAX_JPEG_SCANS))
    assert counted
    # A sequential file whose first scan holds one of its three components may have more.
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG")
    data = buf.getvalue()
    (start, _), = scan_bounds(data)
    assert data[start:start + 5] == b"\xff\xda\x00\x0c\x03"
    one = b"\xff\xda\x00\x08\x01" + data[start + 5:start + 7] + b"\x00\x3f\x00"
    counted.clear()
    try:
        open_image(data[:start] + one + data[start + 14:])
    except ImageError:
        pass  # the pixels do not matter here: only that the scans were counted
    assert counted


def test_a_second_scan_after_an_interleaved_one_is_refused_by_the_decoder():
    # What lets the guard skip such files: libjpeg stops at a second SOS marker there (an
    # error, "broken data stream"), so repeating the scan cannot make a scan bomb.
    buf = io.BytesIO()
    Image.new("RGB", (1024, 1024), (9, 99, 199)).save(buf, "JPEG")
    data = buf.getvalue()
    (start, end), = scan_bounds(data)
    for copies in (1, 2000):
        bomb = data[:end] + data[start:end] * copies + data[end:]
        assert scans_in(bomb) == copies + 1
        with pytest.raises(ImageError) as info:
            open_image(bomb)
        assert info.value.reason == "corrupt" and "broken data stream" in info.value.detail


def test_scan_guard_leaves_the_file_object_where_it_was_item3():
    for progressive in (True, False):
        buf = io.BytesIO()
        Image.new("RGB", (40, 30), (1, 2, 3)).save(buf, "JPEG", progressive=progressive)
        buf.seek(0)
        assert open_image(buf).getpixel((0, 0)) == pytest.approx((1, 2, 3), abs=2)


# --- item 12: formats outside the list ----------------------------------------------------


def ico_bytes(size=64):
    buf = io.BytesIO()
    Image.new("RGBA", (size, size), (10, 20, 30, 255)).save(buf, "ICO", sizes=[(size, size)])
    return buf.getvalue()


def test_ico_is_refused_with_the_format_reason_item12(tmp_path, monkeypatch):
    monkeypatch.setattr(IcoImagePlugin.IcoFile, "__init__",
                        lambda *args: pytest.fail("Pillow's ICO reader ran"))
    path = tmp_path / "favicon.ico"
    path.write_bytes(ico_bytes())
    for call in (verify_image, open_image):
        with pytest.raises(ImageError) as info:
            call(path)
        assert info.value.reason == "unsupported", info.value
        assert "ICO" in info.value.detail and "JPEG" in info.value.detail


def test_ico_with_a_huge_frame_uses_no_memory_item12(tmp_path):
    path = tmp_path / "bomb.ico"
    path.write_bytes(ico_with_png_frame(6000, 6000))  # 144 MB of RGBA once decoded
    assert path.stat().st_size < 200_000
    code = (
        "import resource, sys\n"
        "from mlimages.image import ImageError, verify_image\n"
        "peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        "before = peak()\n"
        "try:\n"
        "    verify_image(sys.argv[1]); print('kept')\n"
        "except ImageError as e:\n"
        "    print(e.reason)\n"
        "print(peak() - before)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=60)
    reason, grew_mb = proc.stdout.split()
    assert reason == "unsupported", proc.stderr
    assert int(grew_mb) < 20


@pytest.mark.parametrize("fmt, ext", [("PNG", "png"), ("JPEG", "jpg"), ("GIF", "gif"),
                                      ("WEBP", "webp"), ("BMP", "bmp"), ("TIFF", "tif"),
                                      ("PPM", "ppm")])
def test_every_listed_format_is_opened_item12(tmp_path, fmt, ext):
    assert fmt in image.FORMATS
    path = tmp_path / f"x.{ext}"
    Image.new("RGB", (20, 10), (200, 100, 50)).save(path, fmt)
    assert verify_image(path) == (fmt, (20, 10))
    assert LabeledImage(path).load().to_array().shape == (3, 10, 20)


@pytest.mark.parametrize("fmt", ["TGA", "PCX", "SGI", "DDS", "QOI"])
def test_other_formats_pillow_can_read_are_unsupported_item12(tmp_path, fmt):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, fmt)
    with pytest.raises(ImageError) as info:
        verify_image(buf.getvalue())
    assert info.value.reason == "unsupported", info.value


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x00\x01", b"\n\x05", b"(\x00", b"\x0c\x00\x00"])
def test_tiny_junk_is_an_image_error_not_a_signature_test_crash_item12(data):
    with pytest.raises(ImageError) as info:  # b"\n\x05" is a PCX signature: unsupported
        verify_image(data)
    assert info.value.reason in ("not_image", "unsupported"), info.value
