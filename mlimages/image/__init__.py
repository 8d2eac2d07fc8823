"""LabeledImage: open any image Pillow reads, fix its channels, resize it, and hand out arrays.

The array contract, the same for every stage: ``to_array()`` returns CHW, RGB channel order,
float32 holding 0..255 (not scaled to 0..1); C is 3, or 1 for grayscale models. It is converted
once here, so the loader, the mean image and the models never see HWC, BGR, alpha or 16-bit data.

Every input that cannot be read raises one exception type, :class:`ImageError`, whose ``reason``
is a short slug (see ``REASONS``) so that callers can count failures by kind. A truncated file
is never returned half grey: images are decoded in full here, and this module never sets
Pillow's process-wide ``ImageFile.LOAD_TRUNCATED_IMAGES`` (nor should anything else).
"""

import contextlib
import dataclasses
import io
import os
import struct
from pathlib import Path
from typing import NamedTuple

import numpy
from PIL import Image, ImageOps

from mlimages.defaults import DEFAULT_RESIZE, RESIZE_MODES
from mlimages.errors import MlimagesError

# Slug -> what it means and what to do about it (the second half of every ImageError message).
REASONS = {
    "missing": "no such file; check the path in the list file",
    "unreadable": "the file cannot be opened (a directory? permissions?)",
    "empty": "the file is empty; re-download it or drop it from the list",
    "truncated": "the data stops early (interrupted download?); re-download or drop it",
    "not_image": "not an image (often an error page saved by a downloader); drop it",
    "unsupported": "a format or mode Pillow cannot decode here; convert it to JPEG or PNG",
    "corrupt": "the image data is damaged; re-download it or drop it from the list",
    "too_large": "too many pixels (decompression-bomb guard); pass max_pixels=N if trusted",
}
ALPHA_POLICIES = ("drop", "blend")

# Bicubic: visibly sharper than bilinear and about half the cost of Lanczos at ImageNet sizes;
# Pillow widens the kernel with the reduction factor, so downscaling does not alias.
# reducing_gap=3 box-reduces by an integer factor first: several times faster on big
# reductions with output Pillow documents as indistinguishable from a plain resize.
_FILTER = Image.Resampling.BICUBIC
_REDUCING_GAP = 3.0
_ORIENTATION = 0x0112  # EXIF tag
_BYTES = (bytes, bytearray, memoryview)
_MAGIC = [(b"\xff\xd8", "JPEG"), (b"\x89PNG", "PNG"), (b"GIF8", "GIF"), (b"%PDF", "PDF"),
          (b"\xff\x0a", "JPEG XL"), (b"\x00\x00\x00\x0cJXL ", "JPEG XL")]
_ENDINGS = {"JPEG": b"\xff\xd9", "PNG": b"IEND\xaeB`\x82", "GIF": b";"}


class ImageError(MlimagesError, ValueError):
    """An input that cannot be read as an image.

    Attributes:
        path (str): the file, or the name given for in-memory bytes.
        reason (str): a slug, one of ``REASONS``.
        detail (str): what was found (e.g. Pillow's own message), may be empty.
    """

    def __init__(self, path, reason, detail=""):
        self.path, self.reason, self.detail = str(path), reason, detail
        found = f" ({detail})" if detail else ""
        super().__init__(f"cannot read image {self.path}: {reason}{found}: {REASONS[reason]}")

    def __reduce__(self):
        # Keeps the exception picklable across multiprocessing workers.
        return (type(self), (self.path, self.reason, self.detail))


class ImageInfo(NamedTuple):
    """Pillow's format name and the (width, height) as shown, i.e. after EXIF orientation."""

    format: str
    size: tuple


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """How to turn a file into the image a model expects.

    Attributes:
        size: int or (width, height) of the output; None keeps the source size.
        resize: "downscale" (short side to size, then center crop), "crop" (center crop,
            zero padding where the image is smaller), "squash" (resize ignoring aspect) or None.
        grayscale: one channel (mode L) instead of three.
        alpha: "drop" discards transparency; "blend" composites onto ``background``.
        background: (r, g, b) used by alpha="blend".
        draft: let libjpeg decode at a reduced scale (never below what ``size`` needs).
        max_pixels: reject images with more pixels; None uses ``Image.MAX_IMAGE_PIXELS``.
            Pillow still refuses anything over twice its own limit, whatever this says.
    """

    size: "int | tuple[int, int] | None" = None
    resize: "str | None" = DEFAULT_RESIZE
    grayscale: bool = False
    alpha: str = "drop"
    background: tuple = (255, 255, 255)
    draft: bool = True
    max_pixels: "int | None" = None

    def __post_init__(self):
        if self.resize is not None and self.resize not in RESIZE_MODES:
            raise ValueError(f"resize={self.resize!r}: use one of {RESIZE_MODES} or None")
        if self.alpha not in ALPHA_POLICIES:
            raise ValueError(f"alpha={self.alpha!r}: use one of {ALPHA_POLICIES}")
        if len(tuple(self.background)) != 3:
            raise ValueError(f"background={self.background!r}: give an (r, g, b) tuple")
        size = (self.size, self.size) if isinstance(self.size, int) else self.size
        if size is not None and (len(size) != 2 or min(size) < 1):
            raise ValueError(f"size={self.size!r}: give an int or (width, height), both >= 1")
        object.__setattr__(self, "size", None if size is None else tuple(int(s) for s in size))
        object.__setattr__(self, "background", tuple(int(c) for c in self.background))


def open_image(source, spec=None, *, name=None, **options):
    """Read, decode and convert one image; raises ImageError if it cannot be read.

    Args:
        source: a path, raw ``bytes``, or a binary file object.
        spec (ImageSpec): conversion settings; ``options`` (ImageSpec fields) override it.
        name (str): what errors call the input (default: the path, or "<bytes>").

    Returns:
        PIL.Image.Image: mode "RGB" ("L" with grayscale), fully decoded, EXIF-oriented,
        resized to ``spec.size`` when set.
    """
    spec = _make_spec(spec, options)
    with _opened(source, name, spec.max_pixels) as im:
        if spec.draft:
            _draft(im, spec)
        im.load()
        im = _fix_channels(_orient(im), spec)
    return _resize(im, spec)


def verify_image(source, *, draft=True, max_pixels=None, name=None):
    """Decode ``source`` (path, bytes or file object) completely, or raise ImageError.

    With ``draft`` a JPEG is decoded at 1/8 scale, which is cheap enough for every download:
    libjpeg still walks all of the entropy-coded data, so truncation is still caught.

    Returns:
        ImageInfo: (format, (width, height)), the size as shown (after EXIF orientation).
    """
    with _opened(source, name, max_pixels) as im:
        info = ImageInfo(im.format, _oriented_size(im))
        if draft:
            im.draft(None, (1, 1))
        im.load()
    return info


class LabeledImage:
    """An image file and its label, as listed in a "path label" list file.

    Attributes:
        path: the file (None for images made from arrays).
        label: the label, as given.
        image (PIL.Image.Image): set by ``load()``, ``from_array()`` or ``from_bytes()``.
    """

    def __init__(self, path, label=None, image=None):
        self.path, self.label, self.image = path, label, image

    def __repr__(self):
        size = None if self.image is None else self.image.size
        return f"LabeledImage(path={self.path!r}, label={self.label!r}, size={size})"

    def load(self, spec=None, **options):
        """Read ``self.path`` into ``self.image`` (see :func:`open_image`); returns self."""
        self.image = open_image(self.path, spec, **options)
        return self

    @classmethod
    def from_bytes(cls, data, label=None, name="<bytes>", spec=None, **options):
        """Decode an in-memory file (e.g. a downloaded body); raises ImageError naming ``name``."""
        return cls(name, label, open_image(data, spec, name=name, **options))

    @classmethod
    def from_array(cls, arr, label=None):
        """Wrap a CHW (C = 1 or 3) or HW array, NumPy or CuPy, as a LabeledImage.

        Float values are rounded and clipped to 0..255; uint8 data round-trips exactly.
        """
        arr = numpy.asarray(arr.get() if hasattr(arr, "get") else arr)
        if arr.ndim == 3 and arr.shape[0] in (1, 3):
            arr = arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)  # CHW -> HWC
        elif arr.ndim != 2:
            raise ValueError(
                f"from_array: expected a CHW array with C = 1 or 3, or HW; got shape "
                f"{arr.shape} (for HWC data pass arr.transpose(2, 0, 1))"
            )
        if arr.dtype != numpy.uint8:
            arr = numpy.clip(numpy.rint(arr), 0, 255).astype(numpy.uint8)
        return cls(None, label, Image.fromarray(numpy.ascontiguousarray(arr)))

    def to_array(self, xp=numpy, dtype=numpy.float32):
        """The image as an array in the package's contract.

        Args:
            xp: ``numpy`` or ``cupy``; the array is built on the host, then moved once.
            dtype: float32 by default (values 0..255, not scaled); ``numpy.uint8`` on request.

        Returns:
            array of shape (C, H, W), C = 3 (RGB) or 1 (mode L), of ``dtype``.
        """
        if self.image is None:
            raise ValueError(f"{self.path}: no image yet; call .load() first")
        im = self.image
        if im.mode not in ("RGB", "L"):
            im = _fix_channels(im, ImageSpec())
        arr = numpy.asarray(im)
        arr = arr[numpy.newaxis] if arr.ndim == 2 else arr.transpose(2, 0, 1)  # HWC -> CHW
        arr = numpy.ascontiguousarray(arr, dtype=dtype)
        return arr if xp is numpy else xp.asarray(arr)

    def save(self, path, **params):
        """Write ``self.image`` (format from the suffix; ``params`` go to PIL's save)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.image.save(path, **params)
        return path


def _make_spec(spec, options):
    if spec is None:
        return ImageSpec(**options)
    return dataclasses.replace(spec, **options) if options else spec


@contextlib.contextmanager
def _opened(source, name, max_pixels):
    """Yield ``Image.open(source)`` after the pixel-count check; every failure inside the
    ``with`` block (open, decode, conversion) leaves as an ImageError naming the input."""
    name = _name_of(source, name)
    fp, own = _as_file(source, name)
    im = None
    try:
        im = Image.open(fp)
        _check_pixels(im, name, max_pixels)
        yield im
    except ImageError:
        raise
    except Exception as ex:  # the per-image boundary: Pillow plugins raise many types on bad data
        reason, detail = _classify(ex, fp, opened=im is not None)
        raise ImageError(name, reason, detail) from ex
    finally:
        if own:
            fp.close()


def _name_of(source, name):
    if name is None and isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if name is None and isinstance(source, _BYTES):
        return "<bytes>"
    return str(name if name is not None else getattr(source, "name", "<stream>"))


def _as_file(source, name):
    """Return (binary file object, whether we must close it)."""
    if isinstance(source, _BYTES):
        return io.BytesIO(source), True
    if not isinstance(source, (str, os.PathLike)):
        seekable = getattr(source, "seekable", lambda: False)()
        return (source, False) if seekable else (io.BytesIO(source.read()), True)
    try:
        return open(source, "rb"), True
    except FileNotFoundError:
        raise ImageError(name, "missing") from None
    except OSError as ex:
        raise ImageError(name, "unreadable", ex.strerror or str(ex)) from None


def _check_pixels(im, name, max_pixels):
    """Refuse oversized images from the header alone, before any pixel is decoded."""
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    width, height = im.size
    if limit is not None and width * height > limit:
        raise ImageError(name, "too_large", f"{width}x{height} pixels, limit {limit}")


def _classify(ex, fp, opened):
    """Map an exception from Pillow to (reason slug, detail text), looking at the bytes."""
    head, tail = _peek(fp)
    detail = f"{type(ex).__name__}: {ex}"
    text = str(ex).lower()
    kind = _sniff(head)
    if isinstance(ex, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return "too_large", detail
    if not head:
        return "empty", "0 bytes"
    if kind in ("HTML", "text") and not opened:
        return "not_image", f"starts like {kind}: {head[:24]!r}"
    if kind in ("HEIF/AVIF", "PDF", "SVG", "JPEG XL"):
        return "unsupported", f"{kind} data"
    if "truncated" in text or isinstance(ex, (EOFError, struct.error)):
        return "truncated", detail
    if "not available" in text or "not supported" in text or "unsupported" in text:
        return "unsupported", detail
    if kind in _ENDINGS and not tail.endswith(_ENDINGS[kind]):
        # A known signature whose end marker is missing: the file was cut short.
        return "truncated", f"{kind} data without its end marker"
    return ("corrupt" if opened or kind else "not_image"), detail


def _peek(fp):
    """First 512 and last 16 bytes of the input (empty if it cannot be re-read)."""
    try:
        fp.seek(0)
        head = fp.read(512)
        fp.seek(max(0, fp.seek(0, io.SEEK_END) - 16))
        return head, fp.read(16)
    except (OSError, ValueError):
        return b"", b""


def _sniff(head):
    """A rough content type from the first bytes, or None."""
    kind = next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)
    start = head.lstrip().lower()
    if kind or head[4:8] == b"ftyp":
        return kind or "HEIF/AVIF"
    if b"<svg" in start:
        return "SVG"
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "HTML"
    printable = all(32 <= b < 127 or b in b"\t\r\n" for b in head)
    return "text" if head and printable else None


def _oriented_size(im):
    width, height = im.size
    swapped = im.getexif().get(_ORIENTATION, 1) in (5, 6, 7, 8)
    return (height, width) if swapped else (width, height)


def _draft(im, spec):
    """Ask libjpeg for a reduced-scale decode that still covers what the resize needs."""
    if spec.size is None or spec.resize in (None, "crop"):
        return
    shown = _oriented_size(im)
    need = spec.size if spec.resize == "squash" else _cover_size(shown, spec.size)
    if shown != im.size:
        need = need[::-1]  # the file stores the image rotated by 90 degrees
    im.draft("RGB", need)  # Pillow's draft never goes below ``need`` in either axis


def _orient(im):
    """Apply the EXIF orientation (phones store portrait photos sideways)."""
    if im.getexif().get(_ORIENTATION, 1) == 1:
        return im  # saves the copy exif_transpose would make
    return ImageOps.exif_transpose(im)


def _fix_channels(im, spec):
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


def _cover_size(src, target):
    """Smallest (w, h) with ``src``'s aspect that covers ``target`` in both axes."""
    scale = max(target[0] / src[0], target[1] / src[1])
    return max(target[0], round(src[0] * scale)), max(target[1], round(src[1] * scale))


def _resize(im, spec):
    if spec.size is None or spec.resize is None or im.size == spec.size:
        return im
    if spec.resize == "squash":
        return im.resize(spec.size, _FILTER, reducing_gap=_REDUCING_GAP)
    if spec.resize == "downscale":
        cover = _cover_size(im.size, spec.size)
        if cover != im.size:
            return _resize_center(im, cover, spec.size)
    return _center_crop(im, spec.size)


def _resize_center(im, cover, size):
    """Resize to ``cover`` then center crop to ``size``, in one step.

    Resampling only the source region that the crop keeps (Pillow's ``box``) gives the
    same pixels as resize-then-crop (at most 1 level apart at the edges) for about 3/4
    of the cost, since no output pixel is computed only to be cropped away.
    """
    sx, sy = im.size[0] / cover[0], im.size[1] / cover[1]
    left, top = (cover[0] - size[0]) // 2, (cover[1] - size[1]) // 2
    box = (left * sx, top * sy, (left + size[0]) * sx, (top + size[1]) * sy)
    return im.resize(size, _FILTER, box=box, reducing_gap=_REDUCING_GAP)


def _center_crop(im, size):
    """Center crop to ``size``; Pillow fills the parts outside the image with zeros."""
    if im.size == size:
        return im
    left, top = (im.size[0] - size[0]) // 2, (im.size[1] - size[1]) // 2
    return im.crop((left, top, left + size[0], top + size[1]))
