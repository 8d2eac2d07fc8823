"""mlimages/image/__init__.py: open_sized, one decode that also tells the full size."""

from PIL import Image

from mlimages.image import ImageSpec, open_image, open_sized


def test_open_sized_is_open_image_plus_the_full_size(tmp_path):
    path = tmp_path / "a.jpg"
    Image.new("RGB", (640, 480), (10, 120, 200)).save(path, quality=90)
    spec = ImageSpec(size=128, resize="squash")
    image, info = open_sized(path, spec)
    assert info.size == (640, 480) and info.format == "JPEG"
    assert image.size == (128, 128) and image.tobytes() == open_image(path, spec).tobytes()


def test_keep_size_leaves_the_draft_as_decoded(tmp_path):
    path, png = tmp_path / "a.jpg", tmp_path / "a.png"
    Image.new("RGB", (640, 480), (10, 120, 200)).save(path, quality=90)
    Image.new("RGB", (640, 480)).save(png)
    spec = ImageSpec(size=128, resize="squash")
    image, info = open_sized(path, spec, keep_size=True)
    # libjpeg's 1/2 scale: 1/4 (160x120) would not cover 128 in height
    assert image.size == (320, 240) and info.size == (640, 480)
    assert open_sized(png, spec, keep_size=True)[0].size == (640, 480)   # no draft for PNG
