"""Generate the benchmark images: photo-like JPEGs at ImageNet/Flickr sizes, from real photos.

Runs in the benchmark's own environment (``make bench-data``: scikit-image and scikit-learn
are needed only here, never by mlimages). Each image is a random crop of a randomly scaled,
flipped and colour-jittered real photo shipped by scikit-image (``skimage.data``) or
scikit-learn (``load_sample_images``), with a little sensor-like grain so that upscaled
crops keep a photo's high-frequency content (JPEG decode cost depends on it).

Writes (deterministic for a seed)::

    OUT/photos/NN/IIIII.jpg      original sizes: mostly 500x375, 375x500, 500x333, 640x480,
                                 a few 1024x768
    OUT/photos.txt               "path label" list (paths relative to OUT/photos)
    OUT/photos256/NN/IIIII.jpg   the same set pre-resized to 256x256 (short side to 256,
                                 centre crop), as Chainer's ImageNet example expects
    OUT/photos256.txt

Usage: python benchmarks/make_bench_data.py --out bench-data --count 2000
"""

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

# (width, height) and how often each occurs, roughly as in ImageNet / Flickr downloads.
SIZES = [((500, 375), 35), ((375, 500), 25), ((500, 333), 20), ((640, 480), 15),
         ((1024, 768), 5)]
COLOUR = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry",
          "hubble_deep_field", "retina"]
TEXTURE = ["grass", "gravel", "brick", "camera", "coins"]  # grey: tinted with random colours
CLASSES = 10


def _sources():
    """The real photos, as uint8 HWC RGB arrays."""
    import skimage.data
    import skimage.io
    from sklearn.datasets import load_sample_images

    photos = [getattr(skimage.data, name)() for name in COLOUR]
    photos.append(skimage.io.imread(os.path.join(os.path.dirname(skimage.data.__file__),
                                                 "motorcycle_left.png")))
    photos.extend(load_sample_images().images)
    photos = [p[..., :3] for p in photos]
    textures = [getattr(skimage.data, name)() for name in TEXTURE]
    return photos, textures


def _pick_size(rng):
    sizes, weights = zip(*SIZES)
    return sizes[rng.choice(len(sizes), p=np.array(weights) / sum(weights))]


def _source_image(photos, textures, rng):
    if rng.random() < 0.8:
        return Image.fromarray(photos[rng.integers(len(photos))])
    grey = textures[rng.integers(len(textures))].astype(np.float32) / 255
    dark, light = rng.uniform(0, 120, 3), rng.uniform(135, 255, 3)
    rgb = dark + grey[..., None] * (light - dark)
    return Image.fromarray(rgb.astype(np.uint8))


def make_photo(photos, textures, seed):
    """One photo-like RGB image (PIL) built from a random crop of a real photo."""
    rng = np.random.default_rng(seed)
    width, height = _pick_size(rng)
    src = _source_image(photos, textures, rng)
    scale = max(width / src.width, height / src.height) * rng.uniform(1.0, 1.6)
    src = src.resize((max(width, round(src.width * scale)), max(height, round(src.height * scale))),
                     Image.Resampling.BICUBIC)
    left = rng.integers(0, src.width - width + 1)
    top = rng.integers(0, src.height - height + 1)
    im = src.crop((left, top, left + width, top + height))
    if rng.random() < 0.5:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    pixels = np.asarray(im, np.float32) * rng.uniform(0.8, 1.2, 3) + rng.uniform(-20, 20)
    pixels += rng.normal(0, 5, pixels.shape)  # sensor grain
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _downscale(im, size=256):
    scale = size / min(im.size)
    cover = (max(size, round(im.width * scale)), max(size, round(im.height * scale)))
    im = im.resize(cover, Image.Resampling.BICUBIC, reducing_gap=3.0)
    left, top = (im.width - size) // 2, (im.height - size) // 2
    return im.crop((left, top, left + size, top + size))


_SOURCES = None


def _write(args):
    global _SOURCES
    out, index, seed = args
    if _SOURCES is None:
        _SOURCES = _sources()
    rel = f"{index % CLASSES:02d}/{index:05d}.jpg"
    quality = int(np.random.default_rng(seed + 1).integers(85, 96))
    im = make_photo(*_SOURCES, seed)
    for folder, image in (("photos", im), ("photos256", _downscale(im))):
        path = Path(out) / folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, quality=quality)
    return rel, index % CLASSES


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="bench-data")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    listed = out / "photos.txt"
    if listed.exists() and len(listed.read_text().splitlines()) == args.count:
        print(f"{out}: {args.count} images already there")
        return 0
    jobs = [(str(out), i, args.seed * 1_000_003 + i) for i in range(args.count)]
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        rows = list(pool.map(_write, jobs, chunksize=16))
    text = "".join(f"{rel} {label}\n" for rel, label in rows)
    (out / "photos256.txt").write_text(text)
    listed.write_text(text)
    total = sum(p.stat().st_size for p in (out / "photos").rglob("*.jpg"))
    print(f"wrote {args.count} images to {out}/photos and {out}/photos256 "
          f"(originals: {total / args.count / 1024:.0f} KiB on average)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
