"""Tests for mlimages/image/: channel policies, resize modes, the JPEG draft path, errors."""

import io
import pickle
import struct
import zlib
from pathlib import Path

import numpy
import pytest
from PIL import Image, ImageFile

from mlimages.image import ImageError, ImageSpec, LabeledImage, open_image, verify_image
from mlimages.image import _convert, _decode

ASSETS = Path(__file__).parent.parent / "assets"
W, H = 16, 12  # every asset is 16x12 (see assets/README.md)
ALL_ASSETS = [
    "gray.png", "gray16.png", "bilevel.png", "rgba.png", "la.png", "palette.png",
    "palette_alpha.png", "rgb.jpg", "cmyk.jpg", "exif6.jpg",
]  # fmt: skip


def assert_is_chw_image(arr, channels, height, width, dtype=numpy.float32):
    """The package's array contract: CHW, C = 3 or 1, values within 0..255."""
    assert isinstance(arr, numpy.ndarray)
    assert arr.shape == (channels, height, width)
    assert arr.dtype == dtype
    assert arr.flags.c_contiguous
    assert 0 <= arr.min() and arr.max() <= 255


def rgb_gradient(width, height):
    """A smooth RGB test picture (uint8 HWC) with some structure."""
    y, x = numpy.mgrid[0:height, 0:width]
    r = 128 + 100 * numpy.sin(x / 37.0) * numpy.cos(y / 53.0)
    g = 255.0 * x / width
    b = 255.0 * ((x // 97 + y // 89) % 2) * 0.6 + 40
    return numpy.stack([r, g, b], -1).astype(numpy.uint8)


def write(path, arr_or_image, **params):
    im = arr_or_image if isinstance(arr_or_image, Image.Image) else Image.fromarray(arr_or_image)
    im.save(path, **params)
    return path


def jpeg_bytes(arr, **params):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **params)
    return buf.getvalue()


def jpeg_marker_offsets(data):
    """Offsets of the JPEG header markers up to and including SOS."""
    offsets, i = [], 2
    while True:
        offsets.append(i)
        if data[i + 1] == 0xDA:
            return offsets
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]


def png_header_only(width, height):
    """A PNG that claims ``width`` x ``height`` pixels but holds almost no data."""

    def chunk(kind, body):
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory):
    """A 2000x1500 quality-90 JPEG (large enough for libjpeg to draft at 1/4 for 256 px)."""
    path = tmp_path_factory.mktemp("big") / "big.jpg"
    return write(path, rgb_gradient(2000, 1500), quality=90)


# --- colour modes ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_ASSETS)
def test_every_mode_becomes_rgb_float32_and_round_trips(name):
    arr = LabeledImage(ASSETS / name, label=3).load().to_array(numpy)
    height, width = (W, H) if name == "exif6.jpg" else (H, W)
    assert_is_chw_image(arr, 3, height, width)
    back = LabeledImage.from_array(arr, label=3)
    assert back.label == 3 and back.image.mode == "RGB"
    numpy.testing.assert_array_equal(back.to_array(), arr)


@pytest.mark.parametrize("name", ALL_ASSETS)
def test_grayscale_gives_one_channel(name):
    arr = LabeledImage(ASSETS / name).load(grayscale=True).to_array(xp=numpy)
    height, width = (W, H) if name == "exif6.jpg" else (H, W)
    assert_is_chw_image(arr, 1, height, width)
    numpy.testing.assert_array_equal(LabeledImage.from_array(arr).to_array(), arr)


def test_gray_is_replicated_to_three_equal_channels():
    gray = numpy.asarray(Image.open(ASSETS / "gray.png"), dtype=numpy.float32)
    arr = LabeledImage(ASSETS / "gray.png").load().to_array()
    for channel in arr:
        numpy.testing.assert_array_equal(channel, gray)
    one = LabeledImage(ASSETS / "gray.png").load(grayscale=True).to_array()
    numpy.testing.assert_array_equal(one[0], gray)


def test_bilevel_becomes_0_or_255():
    assert set(numpy.unique(LabeledImage(ASSETS / "bilevel.png").load().to_array())) == {0, 255}


def test_16bit_png_is_divided_by_257_with_rounding():
    arr = LabeledImage(ASSETS / "gray16.png").load(grayscale=True).to_array()[0]
    assert arr[0, :6].tolist() == [0, 0, 1, 1, 128, 255]  # from 0, 128, 129, 257, 32896, 65535
    assert arr[1].tolist() == [17 * x for x in range(W)]  # from x * 4369 = x * 17 * 257


@pytest.mark.parametrize(
    "mode, values, expected",
    [
        ("I", [0, 100, 255], [0, 100, 255]),  # fits 0..255: kept
        ("I", [0, 257, 65535], [0, 1, 255]),  # fits 0..65535: / 257
        ("I", [-100, 0, 300], [0, 64, 255]),  # otherwise: min..max stretch
        ("F", [0.0, 0.5, 1.0], [0, 128, 255]),  # unit floats: * 255
        ("F", [0.0, 2.0, 200.4], [0, 2, 200]),
        ("F", [-1.0, 0.0, 3.0], [0, 64, 255]),
        ("I", [70000, 70001, 70002], [0, 128, 255]),
    ],
)
def test_32bit_and_float_grey_rule(tmp_path, mode, values, expected):
    dtype = numpy.int32 if mode == "I" else numpy.float32
    path = write(tmp_path / "deep.tif", Image.fromarray(numpy.array([values], dtype), mode))
    assert Image.open(path).mode == mode
    arr = LabeledImage(path).load(grayscale=True).to_array()
    assert arr[0, 0].tolist() == expected


def test_alpha_drop_and_blend_on_half_transparent_pixel():
    def pixel(name, **options):
        return LabeledImage(ASSETS / name).load(**options).to_array()[:, 0, 0].tolist()

    assert pixel("rgba.png") == [200, 100, 0]  # drop is the default
    white = [200 * 128 / 255 + 255 * 127 / 255, 100 * 128 / 255 + 255 * 127 / 255, 127]
    numpy.testing.assert_allclose(pixel("rgba.png", alpha="blend"), white, atol=1)
    black = pixel("rgba.png", alpha="blend", background=(0, 0, 0))
    numpy.testing.assert_allclose(black, [200 * 128 / 255, 100 * 128 / 255, 0], atol=1)
    assert pixel("la.png") == [200] * 3
    numpy.testing.assert_allclose(pixel("la.png", alpha="blend"), [white[0]] * 3, atol=1)
    assert pixel("palette_alpha.png", alpha="blend", background=(1, 2, 3)) == [1, 2, 3]


def test_palette_without_transparency_uses_its_colours():
    palette = Image.open(ASSETS / "palette.png")
    expected = numpy.asarray(palette.convert("RGB")).transpose(2, 0, 1)
    arr = LabeledImage(ASSETS / "palette.png").load().to_array()
    numpy.testing.assert_array_equal(arr, expected)


def test_cmyk_and_ycbcr_become_rgb_close_to_the_source():
    rgb = numpy.asarray(Image.open(ASSETS / "rgb.jpg"), dtype=numpy.float32).transpose(2, 0, 1)
    cmyk = LabeledImage(ASSETS / "cmyk.jpg").load().to_array()
    assert numpy.abs(cmyk - rgb).mean() < 8
    ycbcr = Image.open(ASSETS / "rgb.jpg").convert("YCbCr")
    assert numpy.abs(LabeledImage("mem", image=ycbcr).to_array() - rgb).mean() < 3


def test_exif_orientation_6_rotates_clockwise():
    upright = LabeledImage(ASSETS / "rgb.jpg").load().to_array()
    rotated = LabeledImage(ASSETS / "exif6.jpg").load().to_array()
    expected = numpy.rot90(upright, k=-1, axes=(1, 2))
    assert rotated.shape == (3, W, H)
    assert numpy.abs(rotated - expected).max() <= 2


# --- resize modes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resize, size, shape",
    [
        ("downscale", 8, (8, 8)),
        ("downscale", 32, (32, 32)),  # smaller sources are scaled up
        ("downscale", (10, 4), (4, 10)),
        ("crop", 8, (8, 8)),
        ("crop", (20, 30), (30, 20)),
        ("squash", (5, 7), (7, 5)),
        (None, 8, (H, W)),
        ("downscale", None, (H, W)),
    ],
)
def test_resize_mode_output_size(resize, size, shape):
    arr = LabeledImage(ASSETS / "rgb.jpg").load(size=size, resize=resize).to_array()
    assert_is_chw_image(arr, 3, *shape)


def test_crop_pads_with_zeros_when_smaller():
    source = LabeledImage(ASSETS / "gray.png").load().to_array()
    arr = LabeledImage(ASSETS / "gray.png").load(size=20, resize="crop").to_array()
    # 16x12 in 20x20: 2 columns of padding left and right, 4 rows above and below.
    numpy.testing.assert_array_equal(arr[:, 4:16, 2:18], source)
    assert arr[:, :4].max() == 0 and arr[:, 16:].max() == 0
    assert arr[:, :, :2].max() == 0 and arr[:, :, 18:].max() == 0


def test_downscale_500x375_to_256_keeps_the_center(tmp_path):
    arr = numpy.zeros((375, 500, 3), numpy.uint8)
    arr[:, :, 2] = 255  # blue
    arr[:, :40] = (255, 0, 0)  # a red band that the center crop must cut away
    arr[137:237, 200:300] = (0, 255, 0)  # a green square in the middle
    out = LabeledImage(write(tmp_path / "wide.png", arr)).load(size=256).to_array()
    assert_is_chw_image(out, 3, 256, 256)
    assert out[:, 128, 128].tolist() == [0, 255, 0]
    assert out[0].max() < 10  # no red left
    green = out[1] > 128
    rows, cols = numpy.nonzero(green)
    assert abs(rows.mean() - 127.5) < 1 and abs(cols.mean() - 127.5) < 1
    assert abs(green.sum() - (100 * 256 / 375) ** 2) < 300


# --- JPEG draft ----------------------------------------------------------------------------


def test_draft_stays_close_to_full_decode(big_jpeg):
    fast = LabeledImage(big_jpeg).load(size=256).to_array()
    full = LabeledImage(big_jpeg).load(size=256, draft=False).to_array()
    assert_is_chw_image(fast, 3, 256, 256)
    assert (fast != full).any()  # the reduced-scale decode did happen...
    assert numpy.abs(fast - full).mean() < 3  # ...and is as good for training


@pytest.mark.parametrize(
    "size, resize", [(256, "downscale"), (250, "downscale"), ((100, 300), "squash")]
)
def test_draft_never_goes_below_the_needed_size(big_jpeg, size, resize):
    spec = ImageSpec(size=size, resize=resize)
    im = Image.open(big_jpeg)
    _decode.draft(im, spec)
    need = spec.size if resize == "squash" else _convert.cover_size((2000, 1500), spec.size)
    assert im.size < (2000, 1500)  # it did draft...
    assert im.size[0] >= need[0] and im.size[1] >= need[1]  # ...but not below the need


def test_draft_respects_exif_rotation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    path = write(tmp_path / "portrait.jpg", rgb_gradient(2000, 1500), quality=90, exif=exif)
    fast = LabeledImage(path).load(size=(100, 300), resize="squash").to_array()
    full = LabeledImage(path).load(size=(100, 300), resize="squash", draft=False).to_array()
    assert_is_chw_image(fast, 3, 300, 100)
    assert numpy.abs(fast - full).mean() < 3


# --- arrays --------------------------------------------------------------------------------


def test_uint8_round_trip_is_exact():
    arr = numpy.random.default_rng(0).integers(0, 256, (3, 5, 7), dtype=numpy.uint8)
    assert LabeledImage.from_array(arr).to_array(numpy, dtype=numpy.uint8).tolist() == arr.tolist()
    gray = arr[:1]
    for chw_or_hw in (gray, gray[0]):
        back = LabeledImage.from_array(chw_or_hw).to_array(dtype=numpy.uint8)
        numpy.testing.assert_array_equal(back, gray)


def test_from_array_rounds_and_clips_floats():
    arr = numpy.array([[[254.6, -3.0, 300.0, 0.4]]], numpy.float32)
    assert LabeledImage.from_array(arr).to_array()[0, 0].tolist() == [255, 0, 255, 0]


def test_from_array_accepts_objects_with_get():
    class FakeCupyArray:  # CuPy arrays copy to the host with .get()
        def get(self):
            return numpy.full((3, 2, 2), 7, numpy.uint8)

    assert LabeledImage.from_array(FakeCupyArray()).to_array().max() == 7


def test_from_array_rejects_hwc_with_a_hint():
    with pytest.raises(ValueError, match="transpose"):
        LabeledImage.from_array(numpy.zeros((4, 5, 3)))


def test_to_array_before_load_says_what_to_do():
    with pytest.raises(ValueError, match="load"):
        LabeledImage("a.jpg", 0).to_array()


def test_save_then_load_is_lossless_for_png(tmp_path):
    loaded = LabeledImage(ASSETS / "rgba.png").load()
    path = loaded.save(tmp_path / "sub" / "out.png")
    numpy.testing.assert_array_equal(LabeledImage(path).load().to_array(), loaded.to_array())


def check_to_array_on(xp):
    arr = LabeledImage(ASSETS / "rgb.jpg").load(size=8).to_array(xp)
    assert arr.shape == (3, 8, 8) and arr.dtype == numpy.float32
    expected = LabeledImage(ASSETS / "rgb.jpg").load(size=8).to_array()
    assert numpy.array_equal(LabeledImage.from_array(arr).to_array(), expected)


def test_to_array_cpu():
    check_to_array_on(numpy)


@pytest.mark.gpu
def test_to_array_gpu():
    cupy = pytest.importorskip("cupy")
    check_to_array_on(cupy)


# --- specs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, match",
    [({"resize": "fit"}, "resize="), ({"alpha": "white"}, "alpha="), ({"size": 0}, "size="),
     ({"background": (1, 2)}, "background=")],
)  # fmt: skip
def test_bad_options_are_refused_with_the_choices(options, match):
    with pytest.raises(ValueError, match=match):
        LabeledImage(ASSETS / "rgb.jpg").load(**options)


def test_spec_object_and_overrides():
    spec = ImageSpec(size=8, grayscale=True)
    assert spec.size == (8, 8)
    assert open_image(ASSETS / "rgb.jpg", spec).size == (8, 8)
    assert open_image(ASSETS / "rgb.jpg", spec, size=(4, 6)).size == (4, 6)
    assert LabeledImage(ASSETS / "rgb.jpg").load(spec).image.mode == "L"


# --- bad inputs ----------------------------------------------------------------------------


def assert_image_error(path, reason, call=lambda p: LabeledImage(p, 0).load()):
    with pytest.raises(ImageError) as info:
        call(path)
    assert info.value.reason == reason, info.value
    assert info.value.path == str(path)
    assert str(path) in str(info.value) and reason in str(info.value)
    assert isinstance(info.value, ValueError)
    return info.value


def truncated_jpeg_cuts():
    """A small JPEG and the lengths to cut it at: each header marker, the end of the SOS
    header (no scan data), mid-scan, and just before / inside the final EOI marker."""
    data = jpeg_bytes(rgb_gradient(64, 48), quality=90)
    marks = jpeg_marker_offsets(data)
    sos_end = marks[-1] + 2 + struct.unpack(">H", data[marks[-1] + 2 : marks[-1] + 4])[0]
    return data, [2, 3] + marks[1:] + [sos_end, len(data) // 2, len(data) - 2, len(data) - 1]


JPEG_DATA, JPEG_CUTS = truncated_jpeg_cuts()


@pytest.mark.parametrize("cut", JPEG_CUTS)
def test_truncated_jpeg_at_marker_boundaries_and_in_the_scan(tmp_path, cut):
    path = tmp_path / "cut.jpg"
    path.write_bytes(JPEG_DATA[:cut])
    assert_image_error(path, "truncated")
    assert_image_error(path, "truncated", verify_image)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_progressive_jpeg_truncated(tmp_path):
    data = jpeg_bytes(rgb_gradient(64, 48), progressive=True)
    path = tmp_path / "prog.jpg"
    path.write_bytes(data[: len(data) * 2 // 3])
    assert_image_error(path, "truncated")


@pytest.mark.parametrize("keep", [12, 16, 40, 0.5])
def test_truncated_png(tmp_path, keep):
    buf = io.BytesIO()
    Image.fromarray(rgb_gradient(64, 48)).save(buf, "PNG")
    data = buf.getvalue()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    assert_image_error(path, "truncated")


def test_corrupt_png_data(tmp_path):
    buf = io.BytesIO()
    noise = numpy.random.default_rng(0).integers(0, 256, (64, 64, 3), numpy.uint8)
    Image.fromarray(noise).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    start = data.index(b"IDAT") + 200
    data[start : start + 60] = bytes(60)
    path = tmp_path / "corrupt.png"
    path.write_bytes(bytes(data))
    assert_image_error(path, "corrupt")


@pytest.mark.parametrize(
    "filename, content, reason",
    [
        ("empty.jpg", b"", "empty"),
        ("page.jpg", b"<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n", "not_image"),
        ("notes.txt", b"just some text\nsecond line\n", "not_image"),
        ("noise.jpg", bytes(range(7, 256)) * 4, "not_image"),
        ("photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "unsupported"),
        ("doc.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "unsupported"),
        ("logo.svg", b'<?xml version="1.0"?>\n<svg width="4" height="4"/>', "unsupported"),
    ],
)
def test_bad_files_raise_image_error_with_reason(tmp_path, filename, content, reason):
    path = tmp_path / filename
    path.write_bytes(content)
    assert_image_error(path, reason)
    assert_image_error(path, reason, verify_image)


def test_missing_file_and_directory(tmp_path):
    assert_image_error(tmp_path / "nope.jpg", "missing")
    assert_image_error(tmp_path / "nope.jpg", "missing", verify_image)
    assert_image_error(tmp_path, "unreadable")


def test_max_pixels_rejects_before_decoding_without_touching_the_global(tmp_path):
    limit = Image.MAX_IMAGE_PIXELS
    path = ASSETS / "rgb.jpg"
    error = assert_image_error(path, "too_large", lambda p: open_image(p, max_pixels=W * H - 1))
    assert "16x12" in str(error)
    assert LabeledImage(path).load(max_pixels=W * H).image.size == (W, H)
    assert_image_error(path, "too_large", lambda p: verify_image(p, max_pixels=100))
    assert Image.MAX_IMAGE_PIXELS == limit


def test_pillow_decompression_bomb_is_too_large(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(20000, 20000))  # 4e8 pixels: over twice Pillow's limit
    assert_image_error(path, "too_large")
    assert_image_error(path, "too_large", verify_image)


def test_image_error_pickles():
    error = ImageError("a/b.jpg", "truncated", "cut at 10 bytes")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.reason, copy.detail) == (error.path, error.reason, error.detail)
    assert str(copy) == str(error)


# --- bytes and verification ----------------------------------------------------------------


def test_from_bytes_good_and_bad():
    data = (ASSETS / "exif6.jpg").read_bytes()
    loaded = LabeledImage.from_bytes(data, label=1, name="http://x/a.jpg", size=8)
    assert (loaded.path, loaded.label) == ("http://x/a.jpg", 1)
    assert_is_chw_image(loaded.to_array(), 3, 8, 8)
    with pytest.raises(ImageError) as info:
        LabeledImage.from_bytes(data[:200], name="u.jpg")
    assert (info.value.path, info.value.reason) == ("u.jpg", "truncated")


def test_from_bytes_names_bytes_by_default():
    with pytest.raises(ImageError, match="<bytes>"):
        LabeledImage.from_bytes(b"<html></html>")


def test_verify_image_returns_format_and_shown_size(big_jpeg):
    assert verify_image(ASSETS / "exif6.jpg") == ("JPEG", (H, W))
    assert verify_image((ASSETS / "gray16.png").read_bytes()) == ("PNG", (W, H))
    with open(big_jpeg, "rb") as f:
        assert verify_image(f, draft=False) == ("JPEG", (2000, 1500))


def test_verify_image_with_draft_still_sees_truncation(big_jpeg):
    data = Path(big_jpeg).read_bytes()
    for cut in (len(data) // 2, len(data) - 100, len(data) - 2):
        for draft in (True, False):
            with pytest.raises(ImageError, match="truncated"):
                verify_image(data[:cut], draft=draft, name="big.jpg")


def test_downscale_resamples_only_the_kept_region_like_resize_then_crop():
    from mlimages.demo import synth
    source = synth.make_image("rings", (500, 375), seed=3)
    cover = _convert.cover_size(source.size, (256, 256))
    wide = source.resize(cover, _convert.FILTER, reducing_gap=_convert.REDUCING_GAP)
    left = (cover[0] - 256) // 2
    expected = numpy.asarray(wide.crop((left, 0, left + 256, 256)), dtype=numpy.int16)
    got = LabeledImage(None, image=open_image(_png_bytes(source), size=256))
    diff = numpy.abs(numpy.asarray(got.image, dtype=numpy.int16) - expected)
    assert got.image.size == (256, 256)
    assert diff.max() <= 1 and diff.mean() < 0.01


def _png_bytes(image):
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
