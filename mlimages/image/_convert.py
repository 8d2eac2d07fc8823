"""Conversions of a decoded Pillow image: EXIF orientation, channels, 8-bit, resizing.

Every function takes a loaded ``PIL.Image.Image`` and returns one (possibly the same object);
none of them reads a file or raises :class:`~mlimages.image.ImageError`.
"""

import numpy
from PIL import Image, ImageOps

# Bicubic: visibly sharper than bilinear, cheaper than Lanczos; Pillow widens the kernel
# with the reduction factor, so downscaling does not alias. reducing_gap=3 box-reduces by
# an integer factor first, with output Pillow documents as indistinguishable from a plain
# resize. (What each choice costs: benchmarks/RESULTS.md, "Moved from docstrings".)
FILTER = Image.Resampling.BICUBIC
REDUCING_GAP = 3.0
ORIENTATION = 0x0112  # EXIF tag


def oriented_size(im):
    """(width, height) as shown, i.e. after the EXIF orientation (read from the header)."""
    width, height = im.size
    swapped = im.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8)
    return (height, width) if swapped else (width, height)


def orient(im):
    """Apply the EXIF orientation (phones store portrait photos sideways)."""
    if im.getexif().get(ORIENTATION, 1) == 1:
        return im  # saves the copy exif_transpose would make
    return ImageOps.exif_transpose(im)


def fix_channels(im, spec):
    """Convert any Pillow mode to "RGB" (or "L" with ``spec.grayscale``).

    Palette becomes RGB(A); 16/32-bit and float grey become 8-bit (``_to_8bit``);
    alpha follows ``spec.alpha``; CMYK, YCbCr, 1-bit and the rest go through Pillow's convert.
    """
    if im.mode in ("P", "PA"):
        transparent = im.mode == "PA" or "transparency" in im.info
        im = im.convert("RGBA" if transparent else "RGB")
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        im = _to_8bit(im)
    if im.mode in ("LA", "La", "RGBA", "RGBa"):
        im = _remove_alpha(im, spec)
    target = "L" if spec.grayscale else "RGB"
    return im if im.mode == target else im.convert(target)


def _remove_alpha(im, spec):
    rgba = im if im.mode == "RGBA" else im.convert("RGBA")
    if spec.alpha == "drop":
        return rgba.convert("RGB")
    background = Image.new("RGBA", rgba.size, spec.background + (255,))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _to_8bit(im):
    """High-bit-depth grey -> mode L.

    I;16 is divided by 257 with rounding (65535 -> 255, exact on multiples of 257).
    I and F are scaled by the smallest standard range that holds their values: 0..1 (F only)
    times 255, 0..255 as is, 0..65535 divided by 257 (16-bit data in a 32-bit container);
    anything else (negative, larger, NaN replaced by 0) is stretched min..max to 0..255.
    """
    arr = numpy.asarray(im)
    if im.mode.startswith("I;16"):
        return Image.fromarray(((arr.astype(numpy.uint32) + 128) // 257).astype(numpy.uint8))
    arr = numpy.nan_to_num(arr.astype(numpy.float64))
    lo, hi = float(arr.min()), float(arr.max())
    if im.mode == "F" and lo >= 0 and hi <= 1:
        arr = arr * 255
    elif lo >= 0 and hi <= 255:
        pass
    elif lo >= 0 and hi <= 65535:
        arr = arr / 257
    else:
        arr = (arr - lo) * 255 / (hi - lo)
    return Image.fromarray(numpy.clip(numpy.rint(arr), 0, 255).astype(numpy.uint8))


def cover_size(src, target):
    """Smallest (w, h) with ``src``'s aspect that covers ``target`` in both axes."""
    scale = max(target[0] / src[0], target[1] / src[1])
    return max(target[0], round(src[0] * scale)), max(target[1], round(src[1] * scale))


def resize(im, spec):
    """``im`` brought to ``spec.size`` by ``spec.resize`` (see ImageSpec); as is without one."""
    if spec.size is None or spec.resize is None or im.size == spec.size:
        return im
    if spec.resize == "squash":
        return im.resize(spec.size, FILTER, reducing_gap=REDUCING_GAP)
    if spec.resize == "downscale":
        cover = cover_size(im.size, spec.size)
        if cover != im.size:
            return _resize_center(im, cover, spec.size)
    return _center_crop(im, spec.size)


def _resize_center(im, cover, size):
    """Resize to ``cover`` then center crop to ``size``, in one step.

    Resamples only the source region that the crop keeps (Pillow's ``box``), so no output
    pixel is computed only to be cropped away; the pixels are those of resize-then-crop, at
    most 1 level apart at the edges.
    """
    sx, sy = im.size[0] / cover[0], im.size[1] / cover[1]
    left, top = (cover[0] - size[0]) // 2, (cover[1] - size[1]) // 2
    box = (left * sx, top * sy, (left + size[0]) * sx, (top + size[1]) * sy)
    return im.resize(size, FILTER, box=box, reducing_gap=REDUCING_GAP)


def _center_crop(im, size):
    """Center crop to ``size``; Pillow fills the parts outside the image with zeros."""
    if im.size == size:
        return im
    left, top = (im.size[0] - size[0]) // 2, (im.size[1] - size[1]) // 2
    return im.crop((left, top, left + size[0], top + size[1]))
