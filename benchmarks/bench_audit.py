"""Audit benchmarks: (1) the near-duplicate grouping of 100,000 hashes, with brute force on a
subset as the baseline; (2) the scan rate (one draft decode + hashes + quality numbers per
image) against plain Pillow draft decoding of the same files, both on a 2-process pool.

    PYTHONPATH=. python benchmarks/bench_audit.py [--hashes 100000] [--images 400] [--repeat 5]

Medians of 3 rounds, baseline and candidate in the same run.
"""

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy
from PIL import Image

from mlimages._fs import pool_context
from mlimages.audit.near import brute_force_pairs, components, near_pairs
from mlimages.audit.options import DEFAULT_NEAR, WORK_SIZE
from mlimages.audit.scan import scan_files, scan_one
from mlimages.demo import synth

ROUNDS = 3


def _hashes(n, seed=0):
    """Uniform 64-bit hashes, 10 % of them near copies (0-4 bits flipped) of others."""
    rng = numpy.random.default_rng(seed)
    h = rng.integers(0, 2**64 - 1, size=n, dtype=numpy.uint64)
    copies = rng.choice(n, size=n // 10, replace=False)
    for k in copies:
        flips = rng.choice(64, size=rng.integers(0, 5), replace=False)
        h[k] = h[rng.integers(n)] ^ numpy.uint64(sum(1 << int(b) for b in flips))
    return h


def _median_time(fn, *args):
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _group(h, near):
    i, j, _ = near_pairs(h, near)
    return components(h.size, i, j)


def bench_grouping(n, near, subset):
    banded, labels = _median_time(_group, _hashes(n), near)
    groups = numpy.unique(labels[labels != numpy.arange(n)]).size
    print(f"grouping {n} hashes at near={near}: {banded:.3f} s (median of {ROUNDS}); "
          f"{groups} groups")
    small = _hashes(subset)
    brute, _ = _median_time(brute_force_pairs, small, near)
    fast, _ = _median_time(_group, small, near)
    print(f"baseline, brute force on {subset} hashes: {brute:.3f} s (banded on the same: "
          f"{fast:.3f} s, {brute / fast:.0f}x); brute force on {n} would take about "
          f"{brute * (n / subset) ** 2:.0f} s")


def _draft_decode(path):
    with Image.open(path) as im:
        im.draft("RGB", (WORK_SIZE, WORK_SIZE))
        im.load()
        return im.size


def _plain(paths):
    chunk = max(1, min(64, len(paths) // 16 or 1))
    with ProcessPoolExecutor(2, mp_context=pool_context()) as pool:
        return list(pool.map(_draft_decode, paths, chunksize=chunk))


def _per_image_ms(fn, paths):
    """The best of ROUNDS passes over ``paths`` in this process, in ms per image."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for p in paths:
            fn(p)
        best = min(best, (time.perf_counter() - start) / len(paths) * 1000)
    return best


def bench_scan(count, repeat):
    with tempfile.TemporaryDirectory() as tmp:
        synth.make_tree(tmp, classes=4, per_class=count // 4, seed=3)
        files = sorted(str(p) for p in Path(tmp).rglob("*.jpg"))
        paths = files * repeat          # the pool's start-up is then a small part
        plain, _ = _median_time(_plain, paths)
        audit, _ = _median_time(lambda: scan_files(paths, workers=2, progress=False))
        one_plain, one_scan = _per_image_ms(_draft_decode, files), _per_image_ms(scan_one, files)
    print(f"scan of {len(paths)} JPEGs ({len(files)} files x {repeat}; 500x375..640x480) on 2 "
          f"processes: audit {len(paths) / audit:.0f} img/s, plain Pillow draft decode "
          f"{len(paths) / plain:.0f} img/s: {plain / audit:.2f}x (median of {ROUNDS})")
    print(f"one process, best of {ROUNDS}: audit {one_scan:.2f} ms/img, plain draft decode "
          f"{one_plain:.2f} ms/img: {one_plain / one_scan:.2f}x")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hashes", type=int, default=100_000)
    parser.add_argument("--subset", type=int, default=5_000)
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bench_grouping(args.hashes, DEFAULT_NEAR, args.subset)
    bench_scan(args.images, args.repeat)


if __name__ == "__main__":
    main()
