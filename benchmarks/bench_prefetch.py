"""Benchmark: the loader's cached epochs at several ``prefetch`` depths (what chose its default).

    PYTHONPATH=. python benchmarks/bench_prefetch.py --data bench-data [--depths 4 6 8 12]
        [--rounds 3] [--batches 120]

For each depth, one loader with ``cache=`` (a fresh temporary folder) runs its first epoch
(decoding and storing), then ``--rounds`` rounds of ``--batches`` batches from the cache; each
round prints images/s, the parent's CPU ms per image and how many cores the whole machine
kept busy (``/proc/stat``, so run it on a quiet machine): a depth too shallow leaves the
workers idle between round trips. Depths run in the order given, so repeat the command (or
list a depth twice) before trusting a difference.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy

from mlimages.loader import BatchLoader


def busy_seconds():
    """CPU seconds the whole machine has spent busy (every core; idle and iowait left out)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def cached_rounds(data, depth, rounds, batches):
    """[(images/s, parent CPU ms per image, cores busy)] of each round at ``depth``."""
    mean = numpy.full((3, 256, 256), 120, numpy.float32)
    out = []
    with tempfile.TemporaryDirectory(prefix="bench-prefetch-") as cache, \
            BatchLoader(Path(data) / "photos256.txt", Path(data) / "photos256", mean, 227, 32,
                        train=True, seed=0, cache=cache, prefetch=depth) as loader:
        while loader.epoch < 1:
            next(loader)
        for _ in range(rounds):
            busy, cpu, start, count = busy_seconds(), time.process_time(), time.perf_counter(), 0
            for _ in range(batches):
                count += len(next(loader).x)
            wall = time.perf_counter() - start
            out.append((count / wall, (time.process_time() - cpu) * 1000 / count,
                        (busy_seconds() - busy) / wall))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="bench-data", help="folder made by make_bench_data.py")
    parser.add_argument("--depths", type=int, nargs="+", default=[4, 6, 8, 12])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=120)
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; cached epochs, batch 32, crop 227")
    for depth in args.depths:
        results = cached_rounds(args.data, depth, args.rounds, args.batches)
        rounds = ", ".join(f"{r:.0f} img/s (parent {p:.3f} ms/img, {c:.2f} cores)"
                           for r, p, c in results)
        print(f"prefetch {depth:2d}: median {statistics.median(r for r, _, _ in results):.0f} "
              f"img/s; rounds: {rounds}")


if __name__ == "__main__":
    main()
