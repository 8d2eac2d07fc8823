"""Audit benchmarks: (1) the near-duplicate grouping of 100,000 hashes, with brute force on a
subset as the baseline; (2) the scan rate (one draft decode + hashes + quality numbers per
image) against plain Pillow draft decoding of the same files, both on a 2-process pool.

    PYTHONPATH=. python benchmarks/bench_audit.py [--hashes 100000] [--images 2000] [--repeat 1]
        [--only grouping|scan]

Medians of ROUNDS (5) rounds, baseline and candidate in the same run; the scan's rounds
interleave the two sides and give a ratio per round. The scan's img/s are wall-clock (what the target is
stated in); beside them, the CPU time per image that the pool's workers and, in one process,
each side spend (less disturbed by other load on the machine). It also times the "fixed part":
read, decode and working copy alone (no guard, no numbers), the least any scan with the same
values can cost.

The audit's pool workers keep freed memory (``scan.scan_pool``), and so do the baseline's
(since 2026-12-03; the plain decode was measured no faster for it); the one-process figures
run in this process, whose allocator is left as it is (both sides alike).

The images are distinct by default. ``--repeat N`` lists each file N times (the default was 5
until 2026-12-02): then every image is an N-fold duplicate, whose file the audit hashes after
the scan (``scan.with_file_hashes``), a cost a real set pays only for its duplicates.
"""

import argparse
import io
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy
from PIL import Image

from mlimages._fs import pool_context
from mlimages.audit.hashes import copy_of
from mlimages.audit.near import brute_force_pairs, components, near_pairs
from mlimages.audit.options import DEFAULT_NEAR, WORK_SIZE
from mlimages.audit.scan import BATCH, keep_freed_memory, scan_batch, scan_files, scan_pool
from mlimages.demo import synth

ROUNDS = 5


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
    """The baseline: Pillow opens the file and decodes it in draft mode at the audit's target
    (the same ``draft("RGB", (WORK_SIZE, WORK_SIZE))`` that ``scan.DECODE_SPEC`` asks for)."""
    with Image.open(path) as im:
        im.draft("RGB", (WORK_SIZE, WORK_SIZE))
        im.load()
        return im.size


def _fixed_part(path):
    """What the audit's values fix, with nothing else: read, draft decode, the working copy
    exactly as ``hashes.copy_of`` makes it. No guard, no numbers: the fastest any scan with
    the same values can be, in this design."""
    with open(path, "rb") as f:
        data = f.read()
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (WORK_SIZE, WORK_SIZE))
        im.load()
        return len(copy_of(im).grey)


def _pool(fn, paths):
    """``fn`` over ``paths`` on :func:`_plain_pool`, chunked; pool start included, as in
    ``scan_files(paths, workers=2)``."""
    chunk = max(1, min(64, len(paths) // 16 or 1))
    with _plain_pool() as pool:
        return list(pool.map(fn, paths, chunksize=chunk))


def _timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def _per_image_ms(fn, paths):
    """One pass over ``paths`` in this process, in CPU ms per image."""
    return _cpu_ms(lambda: [fn(p) for p in paths]) / len(paths)


def _cpu_ms(fn, *args):
    """CPU ms this process spends in ``fn(*args)`` (what the machine's other load, which
    stretches wall-clock time, changes least)."""
    start = time.process_time()
    fn(*args)
    return (time.process_time() - start) * 1000


def _plain_batch_cpu(paths):
    """A pool task of the CPU side: CPU ms of the plain decode of ``paths``."""
    return _cpu_ms(lambda: [_draft_decode(p) for p in paths])


def _audit_batch_cpu(paths):
    """A pool task of the CPU side: CPU ms of ``scan_batch(paths)``."""
    return _cpu_ms(scan_batch, paths)


def _plain_pool():
    """The baseline's pool: 2 processes as the scan's (``scan.scan_pool``), their allocator
    set alike (``scan.keep_freed_memory``), so that the ratio compares the work alone."""
    return ProcessPoolExecutor(2, mp_context=pool_context(), initializer=keep_freed_memory)


def _pool_cpu_ms(fn, batches, n, pool):
    """``fn`` over ``batches`` on ``pool`` (2 processes, as ``scan_files``): the workers'
    CPU ms per image, summed over the tasks."""
    with pool:
        return sum(pool.map(fn, batches)) / n


def _batches(paths):
    """``paths`` cut as ``scan_files`` cuts them (BATCH at a time)."""
    return [paths[k:k + BATCH] for k in range(0, len(paths), BATCH)]


def bench_scan(count, repeat):
    """Rounds alternate which side runs first, so a change of the machine's load between the
    two halves of a round does not always favour the same side; ratios are per round."""
    with tempfile.TemporaryDirectory() as tmp:
        synth.make_tree(tmp, classes=4, per_class=count // 4, seed=3)
        files = sorted(str(p) for p in Path(tmp).rglob("*.jpg"))
        paths = files * repeat
        sides = {"plain": lambda: _pool(_draft_decode, paths),
                 "audit": lambda: scan_files(paths, workers=2, progress=False)}
        pooled = _rounds(sides, len(paths))
        batches = _batches(paths)
        cpu = _rounds({"plain": lambda: _pool_cpu_ms(_plain_batch_cpu, batches, len(paths),
                                                     _plain_pool()),
                       "audit": lambda: _pool_cpu_ms(_audit_batch_cpu, batches, len(paths),
                                                     scan_pool(2))},
                      None)
        for fn in (_draft_decode, _fixed_part):
            fn(files[0])                # imports and first-call set-up out of the rounds
        scan_batch(files[:BATCH])
        batches = _batches(files)
        one = _rounds({"plain": lambda: _per_image_ms(_draft_decode, files),
                       "fixed": lambda: _per_image_ms(_fixed_part, files),
                       "audit": lambda: _cpu_ms(lambda: [scan_batch(b) for b in batches])
                       / len(files)}, None)
    ratios = [a / p for p, a in zip(pooled["plain"], pooled["audit"])]  # rates: audit / plain
    print(f"scan of {len(paths)} JPEGs ({len(files)} files x {repeat}; 500x375..640x480) on 2 "
          f"processes, img/s per round: audit {_fmt(pooled['audit'], '.0f')}, plain Pillow "
          f"draft decode {_fmt(pooled['plain'], '.0f')}; audit/plain per round "
          f"{_fmt(ratios, '.2f')}: median {statistics.median(ratios):.2f}x")
    print(f"2 processes, the workers' CPU ms/img per round: audit {_fmt(cpu['audit'], '.2f')}, "
          f"plain {_fmt(cpu['plain'], '.2f')}; plain/audit median "
          f"{_median_ratio(cpu['plain'], cpu['audit']):.2f}x")
    print(f"one process, CPU ms/img per round: audit {_fmt(one['audit'], '.2f')}, plain "
          f"{_fmt(one['plain'], '.2f')}, fixed part {_fmt(one['fixed'], '.2f')}; medians: "
          f"audit/plain {_median_ratio(one['plain'], one['audit']):.2f}x, fixed part/plain "
          f"{_median_ratio(one['plain'], one['fixed']):.2f}x (the ceiling for these values)")


def _rounds(sides, n):
    """ROUNDS rounds of every side (order reversed every other round). With ``n``, each
    side's figure is n / seconds (img/s); without, what the side returns (ms/img)."""
    out = {name: [] for name in sides}
    for r in range(ROUNDS):
        for name in (list(sides) if r % 2 == 0 else list(sides)[::-1]):
            out[name].append(n / _timed(sides[name]) if n else sides[name]())
    return out


def _median_ratio(base, other):
    return statistics.median(b / o for b, o in zip(base, other))


def _fmt(values, spec):
    return "/".join(format(v, spec) for v in values)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hashes", type=int, default=100_000)
    parser.add_argument("--subset", type=int, default=5_000)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1, help="list each file this many times")
    parser.add_argument("--only", choices=("grouping", "scan"), help="run one of the two")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.only != "scan":
        bench_grouping(args.hashes, DEFAULT_NEAR, args.subset)
    if args.only != "grouping":
        bench_scan(args.images, args.repeat)


if __name__ == "__main__":
    main()
