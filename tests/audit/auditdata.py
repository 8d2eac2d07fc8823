"""Planted data for the audit tests: photo-like originals and their copies."""

import shutil

import numpy
from PIL import Image, ImageFilter


def photo(seed, size=(320, 240)):
    """A smooth random colour field (strong, stable gradients at dhash's 9x8) with grain."""
    rng = numpy.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=numpy.uint8), "RGB")
    im = numpy.asarray(coarse.resize(size, Image.Resampling.BICUBIC), dtype=numpy.float32)
    im = im + rng.normal(0, 6, im.shape)
    return Image.fromarray(numpy.clip(im, 0, 255).astype(numpy.uint8), "RGB")


def crop(im, fraction):
    dx, dy = round(im.width * fraction), round(im.height * fraction)
    return im.crop((dx, dy, im.width - dx, im.height - dy))


#: name -> how the copy is made from the original PIL image and saved (path without suffix).
COPIES = {
    "same_bytes": lambda im, src, p: shutil.copyfile(src, f"{p}.jpg"),
    "png_of_png": None,   # written by planted_tree: a BMP of a PNG original (same pixels)
    "jpeg_q40": lambda im, src, p: im.save(f"{p}.jpg", quality=40),
    "resized_half": lambda im, src, p: im.resize((im.width // 2, im.height // 2)).save(
        f"{p}.jpg", quality=90),
    "cropped_2pc": lambda im, src, p: crop(im, 0.02).save(f"{p}.jpg", quality=90),
    "mirrored": lambda im, src, p: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(
        f"{p}.jpg", quality=90),
    "cropped_15pc": lambda im, src, p: crop(im, 0.15).save(f"{p}.jpg", quality=90),
}


def planted_tree(root, classes=("a", "b"), per_class=6):
    """A tree of distinct photos, copies of ``a/0.jpg`` in class ``b`` (named after
    the copy), a blank, a blurred and a tiny image in ``a``; returns ``{name: path}``."""
    files = {}
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            path = root / name / f"{i}.jpg"
            photo(100 * c + i).save(path, quality=90)
            files[f"{name}/{i}"] = path
    original = photo(0)
    src = files[f"{classes[0]}/0"]
    for copy, make in COPIES.items():
        if make:
            make(original, src, root / classes[1] / copy)
            files[copy] = root / classes[1] / f"{copy}.jpg"
    photo(7).save(root / classes[0] / "orig.png")
    photo(7).save(root / classes[1] / "png_of_png.bmp")
    files["orig.png"], files["png_of_png"] = root / classes[0] / "orig.png", root / classes[1] / "png_of_png.bmp"
    Image.new("RGB", (200, 150), (90, 90, 90)).save(root / classes[0] / "blank.png")
    photo(8).filter(ImageFilter.GaussianBlur(6)).save(root / classes[0] / "blurred.jpg")
    photo(9, (40, 30)).save(root / classes[0] / "tiny.png")
    for k in ("blank.png", "blurred.jpg", "tiny.png"):
        files[k] = root / classes[0] / k
    return files
