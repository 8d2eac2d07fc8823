"""Benchmark: mlimages' BatchLoader against Chainer's MultiprocessIterator, in one run.

On the 256x256 set of ``make bench-data`` (crop 227, batch 32), images per second of:

* Pillow decoding alone (open → RGB → array) on every core, in a process pool and in a thread
  pool: the ceiling, and the measurement behind the loader's choice of threads;
* Chainer's ``MultiprocessIterator`` (``n_processes`` = cores) over a dataset with the
  semantics of ``PreprocessedDataset`` in ``examples/imagenet/train_imagenet.py`` (written
  here from its description), each batch stacked by ``concat_examples`` as the updater does;
* PyTorch's ``DataLoader(num_workers=cores)`` (benchmarks/torch_loader.py, run by the Python
  of ``--torch-python``, a venv with torch: ``make bench-torch``; skipped with a note without);
* ``mlimages.loader.BatchLoader`` (worker processes, the default; its batches come stacked,
  its converter is a no-op on CPU), and the same with worker threads (``processes=False``);
* ``BatchLoader(normalize="device", processes=True)``: the uint8 batches a GPU would receive
  (the device subtracts the mean; here nothing does: its converter's CPU work is left out);
* ``BatchLoader`` with ``cache``: the first epoch (which fills the cache) and later epochs.

Each iterator is timed over ``--batches`` batches after one warm-up batch (start-up excluded
for every contender alike). CPU milliseconds per image are printed too (every process of the
contender, start-up and prefetched batches included, over the images it handed out): unlike
images/s they hardly depend on what else the shared machine runs. Every figure is the median of ``--repeat`` rounds; the ratios
compare figures of the same run; the contenders' order rotates from round to round.

Usage: .venv/bin/python benchmarks/bench_loader.py --data bench-data --repeat 3 \
           --torch-python .venv-bench/bin/python [--only main cache]
"""

import argparse
import json
import multiprocessing
import os
import resource
import random
import statistics
import subprocess
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
LIMIT, CHAINER = "pillow decode, processes", "chainer MultiprocessIterator"
TORCH, OURS = "pytorch DataLoader", "mlimages BatchLoader"
BASELINES = (LIMIT, CHAINER, TORCH)
THREADS = "mlimages BatchLoader, threads"
UINT8 = "mlimages BatchLoader, uint8 (normalize=device)"
ONLY = {"main": OURS, "threads": THREADS, "uint8": UINT8, "cache": "cache"}  # --only's keys


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


_handed = {"images": 0, "cpu": 0.0}  # what the running contender reported


def _cpu_seconds():
    """CPU time of this process and of its children that were waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _live_children_cpu():
    """CPU time of the children alive now (forkserver children are never waited for by us,
    so RUSAGE_CHILDREN misses them: read before they end)."""
    total = 0.0
    for child in multiprocessing.active_children():
        try:
            fields = open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def measured(run):
    """(images/s as ``run()`` returns it, CPU ms per image handed out)."""
    _handed.update(images=0, cpu=0.0)
    before = _cpu_seconds()
    rate = run()
    cpu = _cpu_seconds() - before + _handed["cpu"]
    return rate, cpu * 1000 / max(1, _handed["images"])


def _decode(path):
    return numpy.asarray(Image.open(path).convert("RGB")).shape


def pillow_rate(paths, pool_type):
    """Images/s of Pillow decoding ``paths`` on every core (processes or threads)."""
    with pool_type(CORES) as pool:
        list(pool.map(_decode, paths[:CORES * 4]))  # start the workers
        start = time.perf_counter()
        list(pool.map(_decode, paths, chunksize=16 if pool_type is ProcessPoolExecutor else 1))
        _handed["images"] = len(paths) + CORES * 4
        return len(paths) / (time.perf_counter() - start)


def iterator_rate(iterator, batches, convert):
    """Images/s over ``batches`` batches after one warm-up batch."""
    convert(next(iterator), None)
    count, start = 0, time.perf_counter()
    for _ in range(batches):
        x, _ = convert(next(iterator), None)
        count += len(x)
    _handed["images"] += count + len(x)
    _handed["cpu"] = _live_children_cpu()
    return count / (time.perf_counter() - start)


def chainer_rate(list_file, root, mean, args):
    dataset = ChainerWayDataset(list_file, root, mean, args.crop)
    it = chainer.iterators.MultiprocessIterator(dataset, args.batch, n_processes=CORES)
    try:
        return iterator_rate(it, args.batches, chainer.dataset.concat_examples)
    finally:
        it.finalize()


def torch_rate(list_file, root, mean_file, args):
    """Images/s of PyTorch's DataLoader, measured by torch_loader.py in the torch venv."""
    out = subprocess.run(
        [args.torch_python, str(Path(__file__).with_name("torch_loader.py")), "--list",
         str(list_file), "--root", str(root), "--mean", str(mean_file), "--crop",
         str(args.crop), "--batch", str(args.batch), "--batches", str(args.batches),
         "--workers", str(CORES)], check=True, capture_output=True, text=True).stdout
    _handed["images"] = (args.batches + 1) * args.batch
    return json.loads(out.splitlines()[-1])["rate"]


def _raw(batch, device=None):
    return batch.x, batch.t


def loader_rate(list_file, root, mean, args, cache=None, **options):
    """Images/s of BatchLoader; with ``cache``: (first epoch, later epochs)."""
    with BatchLoader(list_file, root, mean, args.crop, args.batch, train=True, seed=0,
                     cache=cache, **options) as loader:
        if cache is None:
            convert = _raw if options.get("normalize") == "device" else converter
            return iterator_rate(loader, args.batches, convert)
        start, count = time.perf_counter(), 0
        while loader.epoch < 1:
            count += len(next(loader).x)
        first = count / (time.perf_counter() - start)
        _handed["images"] += count
        return first, iterator_rate(loader, args.batches, converter)


def one_round(list_file, root, mean, paths, args, turn):
    """Every contender once, in an order rotated by ``turn`` so that no contender always
    meets the same moment of the other developers' load."""
    with tempfile.TemporaryDirectory(prefix="bench-cache-", dir=args.cache_dir) as cache:
        mean_file = Path(cache) / "mean.npy"
        numpy.save(mean_file, mean)
        contenders = {
            LIMIT: lambda: pillow_rate(paths, ProcessPoolExecutor),
            "pillow decode, threads": lambda: pillow_rate(paths, ThreadPoolExecutor),
            CHAINER: lambda: chainer_rate(list_file, root, mean, args),
            TORCH: lambda: torch_rate(list_file, root, mean_file, args),
            OURS: lambda: loader_rate(list_file, root, mean, args),
            THREADS: lambda: loader_rate(list_file, root, mean, args, processes=False),
            UINT8: lambda: loader_rate(
                list_file, root, mean, args, normalize="device", processes=True),
            "cache": lambda: loader_rate(list_file, root, mean, args, cache=cache),
        }
        if not args.torch_python:
            del contenders[TORCH]
        names = [name for name in contenders if _runs(name, args.only)]
        order = names[turn % len(names):] + names[:turn % len(names)]
        results = {name: measured(contenders[name]) for name in order}
    results = {name: results[name] for name in names}  # printed in one order
    cached = results.pop("cache", None)
    if cached is not None:
        (first, later), cpu = cached
        results["mlimages BatchLoader --cache, 1st epoch"] = first
        results["mlimages BatchLoader --cache, later epochs"] = later
    rates = {name: value[0] if isinstance(value, tuple) else value
             for name, value in results.items()}
    cpus = {name: value[1] for name, value in results.items() if isinstance(value, tuple)}
    if cached is not None:
        cpus["mlimages BatchLoader --cache, both"] = cpu
    return rates, cpus


def _runs(name, only):
    """Whether contender ``name`` runs: the baselines always, ours when ``only`` (a list of
    ``ONLY`` keys, or None for all) names it."""
    return only is None or name in BASELINES or any(ONLY[key] == name for key in only)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="bench-data", help="folder made by make_bench_data.py")
    parser.add_argument("--repeat", type=int, default=3)
    # 600 batches: the cached epochs hand them out in ~1.5 s; in 120 (~0.3 s) their rate swung
    # 5.8-8.2x Chainer's round to round, median 7.4x against 9.8x with 600 in the same minute
    # (benchmarks/RESULTS.md, 2026-12-03).
    parser.add_argument("--batches", type=int, default=600, help="timed batches per iterator")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--crop", type=int, default=227)
    parser.add_argument("--cache-dir", default=None, help="where the --cache test writes")
    parser.add_argument("--only", nargs="+", choices=sorted(ONLY),
                        help="run only these of our contenders (main: BatchLoader's float32 "
                             "path; cache: its 1st and later epochs), every baseline still")
    parser.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON"),
                        help="a Python with torch (env TORCH_PYTHON); without: no torch column")
    args = parser.parse_args(argv)
    data = Path(args.data)
    list_file, root = data / "photos256.txt", data / "photos256"
    if not list_file.exists():
        sys.exit(f"{list_file} not found: run `make bench-data` first")
    args.torch_python = _torch_python(args.torch_python)
    mean = compute_mean(list_file, root, MeanOptions(size=256), progress=False).mean
    paths = [str(root / line.split()[0]) for line in list_file.read_text().splitlines()]
    print(time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load average %.2f %.2f %.2f" % os.getloadavg())
    print(f"{len(paths)} images 256x256, crop {args.crop}, batch {args.batch}, {CORES} cores, "
          f"{args.repeat} rounds")
    rounds, cpus = [], []
    for r in range(args.repeat):
        rate, cpu = one_round(list_file, root, mean, paths, args, r)
        rounds.append(rate)
        cpus.append(cpu)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v:.0f}" for k, v in rate.items()), flush=True)
        print("  cpu-ms/img: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()), flush=True)
    report(rounds, args.repeat)
    print("\nCPU ms per image handed out (median): " + ", ".join(
        f"{k} {statistics.median(c[k] for c in cpus):.2f}" for k in cpus[0]))
    print(time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load average %.2f %.2f %.2f" % os.getloadavg())
    return 0


def _torch_python(python):
    """``python`` if it imports torch; else None, with the note that the column is skipped."""
    if python and subprocess.run([python, "-c", "import torch"],
                                 capture_output=True).returncode == 0:
        return python
    why = f"{python} cannot import torch" if python else "no --torch-python given"
    print(f"note: no PyTorch column ({why}; `make bench-torch` installs torch into the bench "
          "venv, then `make bench-loader` uses it)")
    return None


def report(rounds, repeat):
    """Medians, and the medians of the per-round ratios to each baseline."""
    bases = [b for b in (CHAINER, TORCH, LIMIT) if b in rounds[0]]
    print(f"\n{'images/s (median of %d)' % repeat:48s} {'median':>7s}"
          + "".join(f" {'x ' + b.split()[0]:>10s}" for b in bases))
    for key in rounds[0]:
        ratios = [statistics.median(r[key] / r[b] for r in rounds) for b in bases]
        print(f"{key:48s} {statistics.median(r[key] for r in rounds):7.0f}"
              + "".join(f" {q:9.2f}x" for q in ratios))
    later = "mlimages BatchLoader --cache, later epochs"
    for key, base in [(OURS, LIMIT), (OURS, CHAINER), (OURS, TORCH), (later, CHAINER)]:
        if base in rounds[0] and key in rounds[0]:
            print(f"per round, {key} / {base}: "
                  + ", ".join(f"{r[key] / r[base]:.2f}" for r in rounds))


if __name__ == "__main__":
    raise SystemExit(main())
