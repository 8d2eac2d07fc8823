"""LabeledImage: open any image Pillow reads, fix its channels, resize it, and hand out arrays.

The array contract, the same for every stage: ``to_array()`` returns CHW, RGB channel order,
float32 holding 0..255 (not scaled to 0..1); C is 3, or 1 for grayscale models. It is converted
once here, so the loader, the mean image and the models never see HWC, BGR, alpha or 16-bit data.

Every input that cannot be read raises one exception type, :class:`ImageError`, whose ``reason``
is a short slug (see ``REASONS``) so that callers can count failures by kind. A truncated file
is never returned half grey: images are decoded in full here, and this module never sets
Pillow's process-wide ``ImageFile.LOAD_TRUNCATED_IMAGES`` (nor should anything else).

Before any pixel is decoded, three guards look at the header alone: only Pillow's readers for
``FORMATS`` are run, the pixel count is checked against ``max_pixels``, and a JPEG with more
than ``MAX_JPEG_SCANS`` scans is refused (``too_complex``; a sequential JPEG whose first scan
holds every component has one scan by construction and is not counted). Every stage reads
images here, so every stage (gather, ``label --verify``, mean, the loader, predict) has the
same guards.

The public names all live here; the private modules hold the steps: ``_decode`` (input names,
content sniffing, failure reasons, the JPEG draft) and ``_convert`` (EXIF orientation,
channels, 8-bit, resizing).
"""

import contextlib
import dataclasses
import io
import os
from pathlib import Path
from typing import NamedTuple

import numpy
from PIL import Image

from mlimages.defaults import DEFAULT_RESIZE, RESIZE_MODES
from mlimages.errors import MlimagesError
from mlimages.image import _convert, _decode
from mlimages.image._decode import FORMATS, MAX_JPEG_SCANS

# Slug -> what it means and what to do about it (the second half of every ImageError message).
REASONS = {
    "missing": "no such file; check the path in the list file",
    "unreadable": "the file cannot be opened (a directory? permissions?)",
    "empty": "the file is empty; re-download it or drop it from the list",
    "truncated": "the data stops early (interrupted download?); re-download or drop it",
    "not_image": "not an image (often an error page saved by a downloader); drop it",
    "unsupported": "a format not opened here or a mode Pillow cannot decode; convert it to JPEG "
                   "or PNG",
    "corrupt": "the image data is damaged; re-download it or drop it from the list",
    "too_large": "too many pixels (decompression-bomb guard); pass max_pixels=N if trusted",
    "too_complex": f"a JPEG of over {MAX_JPEG_SCANS} scans, each a decoding pass (a decoding-time "
                   "bomb); re-encode it if you trust it",
}
ALPHA_POLICIES = ("drop", "blend")


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
    return open_sized(source, _make_spec(spec, options), name=name)[0]


def open_sized(source, spec, *, name=None, keep_size=False):
    """:func:`open_image` (one decode), and the ImageInfo of the image before any resize.

    ``keep_size``: decode as ``spec`` says (its JPEG draft included) but leave the size as
    decoded: the caller resizes. Returns (image, info), the info's size the full one.
    """
    with _opened(source, name, spec.max_pixels) as im:
        info = ImageInfo(im.format, _convert.oriented_size(im))
        if spec.draft:
            _decode.draft(im, spec)
        im.load()
        im = _convert.fix_channels(_convert.orient(im), spec)
    return (im if keep_size else _convert.resize(im, spec)), info


def verify_image(source, *, draft=True, max_pixels=None, name=None):
    """Decode ``source`` (path, bytes or file object) completely, or raise ImageError.

    With ``draft`` a JPEG is decoded at 1/8 scale, which is cheap enough for every download:
    libjpeg still walks all of the entropy-coded data, so truncation is still caught.

    Returns:
        ImageInfo: (format, (width, height)), the size as shown (after EXIF orientation).
    """
    with _opened(source, name, max_pixels) as im:
        info = ImageInfo(im.format, _convert.oriented_size(im))
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
            im = _convert.fix_channels(im, ImageSpec())
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
    """Yield ``Image.open(source)`` (``FORMATS`` only) after the pixel and scan checks; every
    failure inside the ``with`` block (open, decode, conversion) leaves as an ImageError naming
    the input."""
    name = _decode.name_of(source, name)
    fp, own = _as_file(source, name)
    im = None
    try:
        im = Image.open(fp, formats=FORMATS)
        _check_pixels(im, name, max_pixels)
        _check_scans(im, fp, name)
        yield im
    except ImageError:
        raise
    except Exception as ex:  # the per-image boundary: Pillow plugins raise many types on bad data
        reason, detail = _decode.classify(ex, fp, opened=im is not None)
        raise ImageError(name, reason, detail) from ex
    finally:
        if own:
            fp.close()


def _as_file(source, name):
    """Return (binary file object, whether we must close it)."""
    if isinstance(source, _decode.BYTES):
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


def _check_scans(im, fp, name):
    """Refuse a JPEG of more than ``MAX_JPEG_SCANS`` scans (:func:`_decode.over_scan_limit`)."""
    if _decode.over_scan_limit(im, fp):
        raise ImageError(name, "too_complex", f"over {MAX_JPEG_SCANS} scans")
