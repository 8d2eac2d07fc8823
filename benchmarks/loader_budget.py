"""Benchmark: where one image's CPU time goes in the loader's worker, against Pillow's decode.

The loader's first target (issue 17) compares its images/s with Pillow decoding the same files
in as many processes as cores (``bench_loader.py``, row "pillow decode, processes": open → RGB →
array). This script splits a worker process's work on one image into its steps and times each
(``time.thread_time``), in one process, over the 256x256 set of ``make bench-data`` in a random
order, the outputs written into rotating batch buffers as large as the loader's (so they are
out of cache when written, as in the loader):

* the limit's own work: ``bench_loader._decode``;
* the loader's: ``open_image`` (the decode with every guard of ``mlimages.image``), then one
  of the ways to a batch slot (``WAYS``), in turn: without a cache the loader reaches
  Pillow's pixels where they are (``native.pixels``) and the compiled loop writes the float32
  example from them (the window, mirrored for half of the images, minus the mean's window,
  scaled) or, for the uint8 batches of ``normalize="device"``, the uint8 window; the cache's
  epochs read planes (``chw_array``, the copy the pixels path skips) with the same loop; and,
  for comparison, the NumPy path without compiled loops (``crop_view``, then ``normalize``:
  cast, subtract, scale).

The two decodes of an image take turns going first (the second finds the file's bytes in the
cache). Printed: the median of ``--rounds`` rounds per step, the sums, the ratio to the limit
that the loader would reach if its parent process cost nothing, and the distance to 0.8x.
``bench_loader.py`` gives the parent's share (CPU per image handed out, all processes).

Usage: PYTHONPATH=. .venv/bin/python benchmarks/loader_budget.py --data bench-data
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy

from bench_loader import _decode
from mlimages.image import ImageSpec, open_image
from mlimages.loader import DEFAULT_RESIZE
from mlimages.loader.transforms import chw_array
from mlimages.loader import native
from mlimages.loader.transforms import crop_into, crop_view, normalize, place
from mlimages.mean import MeanOptions, compute_mean

STEPS = ("pillow decode (the limit)", "open_image", "pixels (Arrow export)", "place from pixels",
         "crop from pixels (uint8)", "chw_array", "place from planes", "crop_view (NumPy)",
         "normalize (NumPy)", "crop_into from planes (uint8)")
# The ways from a decoded image to a batch slot (the loader's without a cache first), as the
# steps each takes; "NumPy" is the path without the compiled loops.
WAYS = {"float32, from Pillow's pixels (the loader)": STEPS[2:4],
        "float32, from planes (the cache's epochs)": (STEPS[5], STEPS[6]),
        "float32, NumPy": (STEPS[5], STEPS[7], STEPS[8]),
        "uint8, from Pillow's pixels (the loader)": (STEPS[2], STEPS[4]),
        "uint8, from planes": (STEPS[5], STEPS[9])}
BUFFERS = 10  # batch buffers in rotation: the loader's default prefetch (8) + 2


def one_round(paths, mean, crop, batch, rng):
    """CPU µs per image of each step of ``STEPS`` over ``paths`` in a random order.

    After its decode, each image goes one of the ``WAYS`` to a batch (in turn), as in the
    loader, where the decode has just pushed the batch buffer and the mean out of the cache:
    timed one after the other, the second would find both in it."""
    spent, counts = dict.fromkeys(STEPS, 0.0), dict.fromkeys(STEPS, 0)
    channels, size = mean.shape[0], mean.shape[-1]
    # Written once here: the loader reuses its buffers, so their pages are no longer faulted in.
    floats = numpy.full((BUFFERS, batch, channels, crop, crop), 0, numpy.float32)
    bytes_ = numpy.full((BUFFERS, batch, channels, crop, crop), 0, numpy.uint8)
    spec = ImageSpec(size=size, resize=DEFAULT_RESIZE)
    for k, i in enumerate(rng.permutation(len(paths))):
        top, left = (int(v) for v in rng.integers(0, size - crop + 1, 2))
        flip = bool(rng.random() < 0.5)
        slot = (k // batch) % BUFFERS, k % batch
        first = k % 2
        if first:
            _add(spent, counts, STEPS[0], _timed(_decode, paths[i]))
        start = time.thread_time()
        image = open_image(paths[i], spec, name=paths[i])
        _add(spent, counts, "open_image", time.thread_time() - start)
        way = k % len(WAYS)
        if way in (0, 3):
            start = time.thread_time()
            source = native.pixels(image)
            _add(spent, counts, STEPS[2], time.thread_time() - start)
            if source is None:
                sys.exit("the compiled loops cannot read Pillow's pixels here (not built, "
                         "MLIMAGES_NATIVE=0, or a Pillow older than 11.2)")
        else:
            start = time.thread_time()
            source = chw_array(image)
            _add(spent, counts, STEPS[5], time.thread_time() - start)
        if way == 0:
            _add(spent, counts, STEPS[3], _timed(place, floats[slot], source, mean, top, left,
                                                 flip, crop))
        elif way == 1:
            _add(spent, counts, STEPS[6], _timed(place, floats[slot], source, mean, top, left,
                                                 flip, crop))
        elif way == 2:
            start = time.thread_time()
            window = crop_view(source, top, left, flip, crop)
            _add(spent, counts, STEPS[7], time.thread_time() - start)
            _add(spent, counts, STEPS[8], _timed(normalize, floats[slot], window, mean, top,
                                                 left))
        else:
            _add(spent, counts, STEPS[4 if way == 3 else 9],
                 _timed(crop_into, bytes_[slot], source, top, left, flip, crop))
        if not first:
            _add(spent, counts, STEPS[0], _timed(_decode, paths[i]))
    return {step: spent[step] * 1e6 / counts[step] for step in STEPS}


def _add(spent, counts, step, seconds):
    spent[step] += seconds
    counts[step] += 1


def _timed(function, *args):
    start = time.thread_time()
    function(*args)
    return time.thread_time() - start


def report(steps):
    """The steps' medians, their sums, and what they allow."""
    for step, us in steps.items():
        print(f"  {step:34s} {us:7.1f}")
    limit = steps[STEPS[0]]
    for way, taken in WAYS.items():
        us = steps["open_image"] + sum(steps[step] for step in taken)
        print(f"{way}: {us:.1f} µs per image, limit / ours {limit / us:.2f}x "
              f"({us - limit / 0.8:+.1f} µs against 0.8x, before the parent's share)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="bench-data", help="folder made by make_bench_data.py")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--crop", type=int, default=227)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args(argv)
    data = Path(args.data)
    list_file, root = data / "photos256.txt", data / "photos256"
    if not list_file.exists():
        sys.exit(f"{list_file} not found: run `make bench-data` first")
    # C-contiguous, as BatchLoader holds it (compute_mean returns a transposed view).
    mean = numpy.ascontiguousarray(
        compute_mean(list_file, root, MeanOptions(size=256), progress=False).mean)
    paths = [str(root / line.split()[0]) for line in list_file.read_text().splitlines()]
    print(time.strftime("%Y-%m-%d %H:%M:%S %Z"), f"{len(paths)} images, crop {args.crop}, "
          f"{args.rounds} rounds, one process, CPU µs per image")
    rounds = [one_round(paths, mean, args.crop, args.batch, numpy.random.default_rng(r))
              for r in range(args.rounds)]
    report({step: statistics.median(r[step] for r in rounds) for step in rounds[0]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
