"""Benchmark: mlimages' BatchLoader against Chainer's MultiprocessIterator, in one run.

On the 256x256 set of ``make bench-data`` (crop 227, batch 32), images per second of:

* Pillow decoding alone (open → RGB → array) on every core, in a process pool and in a thread
  pool: the ceiling, and the measurement behind the loader's choice of threads;
* Chainer's ``MultiprocessIterator`` (``n_processes`` = cores) over a dataset with the
  semantics of ``PreprocessedDataset`` in ``examples/imagenet/train_imagenet.py`` (written
  here from its description), each batch stacked by ``concat_examples`` as the updater does;
* ``mlimages.loader.BatchLoader`` (its batches come stacked; its converter is a no-op on CPU);
* ``BatchLoader`` with ``cache``: the first epoch (which fills the cache) and later epochs.

Each iterator is timed over ``--batches`` batches after one warm-up batch (start-up excluded
for every contender alike). Every figure is the median of ``--repeat`` rounds; the ratios
compare figures of the same run; the contenders' order rotates from round to round.

Usage: .venv/bin/python benchmarks/bench_loader.py --data bench-data --repeat 3
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy
from PIL import Image

from mlimages._chainer import chainer
from mlimages.loader import BatchLoader, converter
from mlimages.mean import MeanOptions, compute_mean

CORES = os.cpu_count() or 1


class ChainerWayDataset(chainer.dataset.DatasetMixin):
    """What train_imagenet.py's PreprocessedDataset does, restated for the baseline.

    Reads with ``LabeledImageDataset`` (float32 CHW, as stored), draws the crop's top and left
    with ``random.randint(0, side - crop - 1)`` (so the last offset is never drawn), flips the
    whole image half of the time, subtracts the mean cropped at the same place, scales by
    1/255. Returns one (image, label) example.
    """

    def __init__(self, list_file, root, mean, crop):
        self.images = chainer.datasets.LabeledImageDataset(str(list_file), str(root))
        self.mean, self.crop = mean.astype(numpy.float32), crop

    def __len__(self):
        return len(self.images)

    def get_example(self, i):
        image, label = self.images[i]
        crop = self.crop
        top = random.randint(0, image.shape[1] - crop - 1)
        left = random.randint(0, image.shape[2] - crop - 1)
        if random.randint(0, 1):
            image = image[:, :, ::-1]
        window = (slice(None), slice(top, top + crop), slice(left, left + crop))
        example = image[window] - self.mean[window]
        example *= 1.0 / 255.0
        return example, label


def _decode(path):
    return numpy.asarray(Image.open(path).convert("RGB")).shape


def pillow_rate(paths, pool_type):
    """Images/s of Pillow decoding ``paths`` on every core (processes or threads)."""
    with pool_type(CORES) as pool:
        list(pool.map(_decode, paths[:CORES * 4]))  # start the workers
        start = time.perf_counter()
        list(pool.map(_decode, paths, chunksize=16 if pool_type is ProcessPoolExecutor else 1))
        return len(paths) / (time.perf_counter() - start)


def iterator_rate(iterator, batches, convert):
    """Images/s over ``batches`` batches after one warm-up batch."""
    convert(next(iterator), None)
    count, start = 0, time.perf_counter()
    for _ in range(batches):
        x, _ = convert(next(iterator), None)
        count += len(x)
    return count / (time.perf_counter() - start)


def chainer_rate(list_file, root, mean, args):
    dataset = ChainerWayDataset(list_file, root, mean, args.crop)
    it = chainer.iterators.MultiprocessIterator(dataset, args.batch, n_processes=CORES)
    try:
        return iterator_rate(it, args.batches, chainer.dataset.concat_examples)
    finally:
        it.finalize()


def loader_rate(list_file, root, mean, args, cache=None):
    """Images/s of BatchLoader; with ``cache``: (first epoch, later epochs)."""
    with BatchLoader(list_file, root, mean, args.crop, args.batch, train=True, seed=0,
                     cache=cache) as loader:
        if cache is None:
            return iterator_rate(loader, args.batches, converter)
        start, count = time.perf_counter(), 0
        while loader.epoch < 1:
            count += len(next(loader).x)
        first = count / (time.perf_counter() - start)
        return first, iterator_rate(loader, args.batches, converter)


def one_round(list_file, root, mean, paths, args, turn):
    """Every contender once, in an order rotated by ``turn`` so that no contender always
    meets the same moment of the other developers' load."""
    with tempfile.TemporaryDirectory(prefix="bench-cache-", dir=args.cache_dir) as cache:
        contenders = {
            "pillow decode, processes": lambda: pillow_rate(paths, ProcessPoolExecutor),
            "pillow decode, threads": lambda: pillow_rate(paths, ThreadPoolExecutor),
            "chainer MultiprocessIterator": lambda: chainer_rate(list_file, root, mean, args),
            "mlimages BatchLoader": lambda: loader_rate(list_file, root, mean, args),
            "cache": lambda: loader_rate(list_file, root, mean, args, cache=cache),
        }
        names = list(contenders)
        order = names[turn % len(names):] + names[:turn % len(names)]
        results = {name: contenders[name]() for name in order}
    results = {name: results[name] for name in names}  # printed in one order
    first, later = results.pop("cache")
    results["mlimages BatchLoader --cache, 1st epoch"] = first
    results["mlimages BatchLoader --cache, later epochs"] = later
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="bench-data", help="folder made by make_bench_data.py")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batches", type=int, default=120, help="timed batches per iterator")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--crop", type=int, default=227)
    parser.add_argument("--cache-dir", default=None, help="where the --cache test writes")
    args = parser.parse_args(argv)
    data = Path(args.data)
    list_file, root = data / "photos256.txt", data / "photos256"
    if not list_file.exists():
        sys.exit(f"{list_file} not found: run `make bench-data` first")
    mean = compute_mean(list_file, root, MeanOptions(size=256), progress=False).mean
    paths = [str(root / line.split()[0]) for line in list_file.read_text().splitlines()]
    print(f"{len(paths)} images 256x256, crop {args.crop}, batch {args.batch}, {CORES} cores, "
          f"{args.repeat} rounds")
    rounds = []
    for r in range(args.repeat):
        rounds.append(one_round(list_file, root, mean, paths, args, r))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v:.0f}" for k, v in rounds[-1].items()),
              flush=True)
    base = "chainer MultiprocessIterator"
    print(f"\n{'images/s (median of %d)' % args.repeat:45s} {'median':>8s} {'x Chainer':>10s}")
    for key in rounds[0]:
        ratios = [r[key] / r[base] for r in rounds]
        print(f"{key:45s} {statistics.median(r[key] for r in rounds):8.0f} "
              f"{statistics.median(ratios):9.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
