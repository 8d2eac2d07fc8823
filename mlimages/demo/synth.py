"""Generated image-classification data for the demo, tests and benchmarks.

Each class is a visual *pattern* (stripes, rings, checks, blobs, ...) drawn
with random colours, phase, scale, noise and position, so that a CNN has to
learn shapes and textures rather than a flat colour, and JPEG decoding costs
what it costs on photos.  Everything is deterministic for a given seed.
"""

from pathlib import Path

import numpy as np
from PIL import Image

PATTERNS = ("stripes", "rings", "checks", "blobs", "waves", "dots")


def _grid(h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return y / max(h, w), x / max(h, w)


def _pattern(kind, h, w, rng):
    """A float32 HW field in [0, 1] that defines the class."""
    y, x = _grid(h, w)
    # 3-6 cycles across the image: still visible after downscaling to 64 px.
    freq = rng.uniform(3, 6)
    angle = rng.uniform(0, np.pi)
    if kind == "stripes":
        field = np.sin(2 * np.pi * freq * (x * np.cos(angle) + y * np.sin(angle)))
    elif kind == "rings":
        cy, cx = rng.uniform(0.2, 0.6, size=2)
        field = np.sin(2 * np.pi * freq * np.hypot(y - cy, x - cx))
    elif kind == "checks":
        field = np.sign(np.sin(2 * np.pi * freq * x / 2) * np.sin(2 * np.pi * freq * y / 2))
    elif kind == "blobs":
        field = np.zeros((h, w), np.float32)
        for _ in range(12):
            cy, cx = rng.uniform(0, 1, size=2)
            r = rng.uniform(0.03, 0.1)
            field += np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r))
        field = np.tanh(field) * 2 - 1
    elif kind == "waves":
        field = np.sin(2 * np.pi * freq * x + 3 * np.sin(2 * np.pi * freq / 4 * y))
    elif kind == "dots":
        field = (np.sin(2 * np.pi * freq * x) * np.sin(2 * np.pi * freq * y)) ** 8 * 2 - 1
    else:
        raise ValueError(f"unknown pattern {kind!r}; choose from {PATTERNS}")
    return (field.astype(np.float32) + 1) / 2


def make_image(kind, size=(500, 375), seed=0):
    """Return one RGB PIL image of pattern ``kind`` and ``size`` (w, h)."""
    rng = np.random.default_rng(seed)
    w, h = size
    field = _pattern(kind, h, w, rng)[..., None]
    # Random hues, but a light foreground on a dark background: the pattern always shows in
    # the brightness, not only as a difference of hue.
    fg = rng.uniform(150, 255, size=3).astype(np.float32)
    bg = rng.uniform(0, 90, size=3).astype(np.float32)
    img = field * fg + (1 - field) * bg
    img += rng.normal(0, 12, size=img.shape).astype(np.float32)
    shade = np.linspace(rng.uniform(0.7, 1), rng.uniform(0.7, 1), w, dtype=np.float32)
    img *= shade[None, :, None]
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


SIZES = ((500, 375), (375, 500), (500, 333), (640, 480))


def make_tree(root, classes=3, per_class=20, seed=0, sizes=SIZES, quality=85):
    """Write ``classes`` folders of ``per_class`` JPEGs under ``root``.

    Returns the list of class names (``PATTERNS`` order, i.e. sorted
    differently from the folder order on purpose only if names say so).
    """
    root = Path(root)
    names = list(PATTERNS[:classes])
    if classes > len(PATTERNS):
        raise ValueError(f"at most {len(PATTERNS)} classes, got {classes}")
    for c, name in enumerate(names):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            s = seed * 1_000_003 + c * 10_007 + i
            size = sizes[s % len(sizes)]
            make_image(name, size, seed=s).save(folder / f"{name}_{i:04d}.jpg", quality=quality)
    return names
