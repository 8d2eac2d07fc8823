"""The --near study: dhash distances of planted copies to their originals, and of unrelated
images to each other, on generated photos (mlimages.demo.synth, all six patterns).

    PYTHONPATH=. python benchmarks/study_near.py [--originals 60]

Prints, per kind of copy, the distances (median, max) and the share within each threshold,
then the share the audit catches at the default --near (the dhash within it and the 16x16 grey
copies within LOOK_TOLERANCE, mirrored copies through the mirror hash), and the look
difference of the 16x16 grey copies (median, 90th percentile; what LOOK_TOLERANCE is held
against); the same for unrelated pairs (different originals, same pattern and not): the
false matches.
"""

import argparse
import io
import tempfile
from pathlib import Path

import numpy
from PIL import Image

from mlimages.audit.hashes import look_difference
from mlimages.audit.near import popcount
from mlimages.audit.options import DEFAULT_NEAR, LOOK_TOLERANCE
from mlimages.audit.scan import scan_files
from mlimages.demo import synth

THRESHOLDS = (0, 2, 4, 6, 8, 10)


def _jpeg(im, quality):
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


COPIES = {
    "jpeg q=40": lambda im: _jpeg(im, 40),
    "jpeg q=95": lambda im: _jpeg(im, 95),
    "resized 50 %": lambda im: im.resize((im.width // 2, im.height // 2)),
    "resized 25 % + q=70": lambda im: _jpeg(im.resize((im.width // 4, im.height // 4)), 70),
    "cropped 2 % a side": lambda im: im.crop(_crop_box(im, 0.02)),
    "cropped 5 % a side": lambda im: im.crop(_crop_box(im, 0.05)),
    "cropped 10 % a side": lambda im: im.crop(_crop_box(im, 0.10)),
    "mirrored (straight hash)": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "grey": lambda im: im.convert("L").convert("RGB"),
}


def _crop_box(im, f):
    dx, dy = round(im.width * f), round(im.height * f)
    return (dx, dy, im.width - dx, im.height - dy)


def _write(folder, originals):
    paths = {"original": []}
    for n in range(originals):
        kind = synth.PATTERNS[n % len(synth.PATTERNS)]
        im = synth.make_image(kind, (400, 300), seed=9000 + n)
        p = folder / f"{n}_original.jpg"
        im.save(p, quality=90)
        paths["original"].append(p)
        for name, make in COPIES.items():
            q = folder / f"{n}_{len(paths.get(name, []))}_{name.split()[0]}_{abs(hash(name))}.png"
            make(im).convert("RGB").save(q)
            paths.setdefault(name, []).append(q)
    return paths


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--originals", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write(Path(tmp), args.originals)
        scanned = {k: scan_files(v, workers=2, progress=False) for k, v in paths.items()}
    originals = scanned["original"]
    orig = numpy.array([s.dhash for s in originals], dtype=numpy.uint64)
    print(f"{'copy':34s} {'median':>6s} {'max':>4s}  " + " ".join(f"<={t:<3d}" for t in THRESHOLDS)
          + f"  caught at --near {DEFAULT_NEAR}  look median, p90")
    for name in COPIES:
        h = numpy.array([s.dhash for s in scanned[name]], dtype=numpy.uint64)
        looks = [look_difference(a.tiny, b.tiny) for a, b in zip(originals, scanned[name])]
        if name.startswith("mirrored"):
            m = numpy.array([s.mirror for s in scanned[name]], dtype=numpy.uint64)
            _row("mirrored (mirror hash)", popcount(orig ^ m).astype(int), looks)
        _row(name, popcount(orig ^ h).astype(int), looks)
    i, j = numpy.triu_indices(orig.size, 1)
    d = popcount(orig[i] ^ orig[j]).astype(int)
    looks = numpy.array([look_difference(originals[a].tiny, originals[b].tiny)
                         for a, b in zip(i, j)])
    same = (i % len(synth.PATTERNS)) == (j % len(synth.PATTERNS))
    _row(f"unrelated, same pattern ({same.sum()} pairs)", d[same], looks[same])
    _row(f"unrelated, other ({(~same).sum()} pairs)", d[~same], looks[~same])


def _row(name, d, looks):
    shares = " ".join(f"{100 * (d <= t).mean():4.0f}%" for t in THRESHOLDS)
    looks = numpy.asarray(looks)
    caught = ((d <= DEFAULT_NEAR) & (looks <= LOOK_TOLERANCE)).mean()
    print(f"{name:34s} {numpy.median(d):6.1f} {d.max():4d}  {shares}  {100 * caught:5.1f}%"
          f"             {numpy.median(looks):5.1f} {numpy.percentile(looks, 90):5.1f}")


if __name__ == "__main__":
    main()
