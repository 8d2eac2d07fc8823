"""The quality flags' numbers on real photos and on blurred, grey and flat versions of them:
what share each default threshold flags (run it with two libraries to compare definitions).

    PYTHONPATH=. python benchmarks/study_flags.py [--photos bench-data/photos] [--count 300]

Per kind of image: the median of each number the audit measures (entropy, sharpness, colour)
and the share below the default --min-entropy, --min-sharpness and --max-colour, then the
share below each of SHARPNESS (the --min-sharpness a definition's change has to re-choose). The blurred
versions are the photos through a Gaussian blur of the given radius in full-size pixels,
saved as JPEG q=90 like the photos.
"""

import argparse
import tempfile
from pathlib import Path

import numpy
from PIL import Image, ImageFilter

from mlimages.audit.options import AuditOptions
from mlimages.audit.scan import scan_files

SHARPNESS = (10, 20, 30, 40, 50, 60)
KINDS = {
    "photo": lambda im: im,
    "blurred r=1": lambda im: im.filter(ImageFilter.GaussianBlur(1)),
    "blurred r=2": lambda im: im.filter(ImageFilter.GaussianBlur(2)),
    "blurred r=4": lambda im: im.filter(ImageFilter.GaussianBlur(4)),
    "blurred r=8": lambda im: im.filter(ImageFilter.GaussianBlur(8)),
    "grey": lambda im: im.convert("L").convert("RGB"),
    "flat + noise": lambda im: _flat(im),
}


def _flat(im):
    """One colour (the photo's mean) with +-2 levels of noise: a near-blank image."""
    rng = numpy.random.default_rng(im.width * im.height)
    mean = numpy.asarray(im).reshape(-1, 3).mean(axis=0)
    px = mean + rng.integers(-2, 3, (im.height, im.width, 3))
    return Image.fromarray(numpy.clip(px, 0, 255).astype(numpy.uint8), "RGB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", default="/work/bench-data/photos")
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    photos = sorted(Path(args.photos).rglob("*.jpg"))[:args.count]
    o = AuditOptions()
    print(f"{len(photos)} photos from {args.photos}; thresholds: entropy < {o.min_entropy}, "
          f"sharpness < {o.min_sharpness}, colour < {o.max_colour}")
    print(f"{'kind':14s} {'entropy':>8s} {'sharpness':>10s} {'colour':>7s}   "
          f"{'low_info':>8s} {'blurry':>7s} {'grey':>6s}   "
          + " ".join(f"{'<' + str(t):>5s}" for t in SHARPNESS))
    with tempfile.TemporaryDirectory() as tmp:
        for kind, make in KINDS.items():
            paths = []
            for k, p in enumerate(photos):
                with Image.open(p) as im:
                    q = Path(tmp) / f"{k}_{kind.split()[0]}.jpg"
                    make(im.convert("RGB")).save(q, quality=90)
                    paths.append(q)
            s = [x for x in scan_files(paths, workers=2, progress=False) if not x.error]
            e, sh, c = (numpy.array([getattr(x, f) for x in s])
                        for f in ("entropy", "sharpness", "colour"))
            print(f"{kind:14s} {numpy.median(e):8.2f} {numpy.median(sh):10.1f} "
                  f"{numpy.median(c):7.2f}   {100 * (e < o.min_entropy).mean():7.1f}% "
                  f"{100 * (sh < o.min_sharpness).mean():6.1f}% {100 * (c < o.max_colour).mean():5.1f}%   "
                  + " ".join(f"{100 * (sh < t).mean():4.0f}%" for t in SHARPNESS))


if __name__ == "__main__":
    main()
