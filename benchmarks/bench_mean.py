"""Benchmark: ``mlimages mean --size 256`` against the decode+resize limit and Chainer's way.

On the original-size photos of ``make bench-data``, images per second of, in the same run:

* ``mlimages mean LIST --root ROOT --size 256`` run as a command (interpreter start-up, pool
  start-up, decode, resize, sum, and writing .npy/.png/.json and the used list included);
* the same as one library call, ``mlimages.mean.mean_image`` (no interpreter start-up, like
  the next two);
* the decode+resize limit: Pillow ``open → convert("RGB") → resize((256, 256))`` in a process
  pool over every core, nothing else (pool start-up included, as for mlimages);
* the same limit with libjpeg's reduced-size decoding (``Image.draft``), which mlimages uses:
  shown so that the first ratio is not mistaken for magic;
* Chainer's way end to end: a resize pass writing 256x256 JPEGs (one process, as the usual
  resize scripts do), then ``LabeledImageDataset`` summed one image at a time and divided, as
  ``examples/imagenet/compute_mean.py`` does.

Every file is read once before the rounds (a warm page cache for every contender). Every
figure is the median of ``--repeat`` rounds; ratios compare figures of the same round,
whose contenders run one after the other in an order that rotates from round to round.
CPU milliseconds per image (all processes, children included) are printed too: unlike
images/s they hardly depend on what else the shared machine runs. mlimages' pool runs under
forkserver, whose workers this process never waits for: their CPU is missing from mlimages'
two rows (which show the parent's alone).

Usage: .venv/bin/python benchmarks/bench_mean.py --data bench-data --repeat 3
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

from mlimages._chainer import chainer
from mlimages.mean import MeanOptions, mean_image

CORES = os.cpu_count() or 1
SIZE = 256


def _cpu_seconds():
    """CPU time of this process and of its finished children (pools, the command)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measured(run, count):
    """(images/s, CPU ms per image) of ``run()``, which handles ``count`` images."""
    cpu, start = _cpu_seconds(), time.perf_counter()
    run()
    wall = time.perf_counter() - start
    return count / wall, (_cpu_seconds() - cpu) * 1000 / count


def _decode_resize(path):
    Image.open(path).convert("RGB").resize((SIZE, SIZE))


def _decode_resize_draft(path):
    im = Image.open(path)
    im.draft("RGB", (SIZE, SIZE))
    im.convert("RGB").resize((SIZE, SIZE))


def limit(paths, work):
    with ProcessPoolExecutor(CORES) as pool:
        list(pool.map(work, paths, chunksize=32))


def mlimages_command(list_file, root, out):
    subprocess.run([sys.executable, "-m", "mlimages", "mean", str(list_file), "--root",
                    str(root), "--size", str(SIZE), "--out", str(out / "mean.png"), "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)


def mlimages_library(list_file, root, out):
    mean_image(list_file, root, out / "lib-mean.png", MeanOptions(size=SIZE), progress=False)


def chainer_way(list_file, root, out):
    """Resize pass to 256x256 JPEGs, then compute_mean.py's sequential sum."""
    lines = list_file.read_text().splitlines()
    for line in lines:
        rel = line.rsplit(None, 1)[0]
        target = out / "resized" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.open(root / rel).convert("RGB").resize((SIZE, SIZE)).save(target, quality=95)
    dataset = chainer.datasets.LabeledImageDataset(str(list_file), str(out / "resized"))
    total = 0
    for image, _ in dataset:
        total += image
    return total / len(dataset)


def one_round(list_file, root, paths, turn):
    """Every contender once, in an order rotated by ``turn`` so that no contender always
    meets the same moment of the other developers' load."""
    count = len(paths)
    with tempfile.TemporaryDirectory(prefix="bench-mean-") as tmp:
        tmp = Path(tmp)
        contenders = {
            "mlimages mean (command, end to end)": lambda: mlimages_command(list_file, root, tmp),
            "mlimages mean (library call)": lambda: mlimages_library(list_file, root, tmp),
            "decode+resize limit (Pillow, all cores)": lambda: limit(paths, _decode_resize),
            "decode+resize limit with JPEG draft": lambda: limit(paths, _decode_resize_draft),
            "Chainer's way (resize pass + compute_mean)": lambda: chainer_way(list_file, root,
                                                                              tmp),
        }
        names = list(contenders)
        order = names[turn % len(names):] + names[:turn % len(names)]
        results = {name: measured(contenders[name], count) for name in order}
    return {name: results[name] for name in names}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="bench-data", help="folder made by make_bench_data.py")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    list_file, root = Path(args.data) / "photos.txt", Path(args.data) / "photos"
    if not list_file.exists():
        sys.exit(f"{list_file} not found: run `make bench-data` first")
    paths = [str(root / line.rsplit(None, 1)[0]) for line in list_file.read_text().splitlines()]
    print(time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load average %.2f %.2f %.2f" % os.getloadavg())
    print(f"{len(paths)} photos, mean at {SIZE}x{SIZE}, {CORES} cores, {args.repeat} rounds")
    for path in paths:  # into the page cache: round 1's first contender must not read the disk
        Path(path).read_bytes()
    rounds = []
    for r in range(args.repeat):
        rounds.append(one_round(list_file, root, paths, r))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[0]:.0f} img/s {v[1]:.1f} cpu-ms/img"
                                             for k, v in rounds[-1].items()), flush=True)
    command, library = "mlimages mean (command, end to end)", "mlimages mean (library call)"
    print(f"\n{'median of %d rounds' % args.repeat:45s} {'img/s':>7s} {'command/this':>13s}"
          f" {'library/this':>13s} {'CPU ms/img':>11s}")
    for key in rounds[0]:
        ratios = [statistics.median(r[ours][0] / r[key][0] for r in rounds)
                  for ours in (command, library)]
        print(f"{key:45s} {statistics.median(r[key][0] for r in rounds):7.0f} "
              f"{ratios[0]:12.2f}x {ratios[1]:12.2f}x "
              f"{statistics.median(r[key][1] for r in rounds):11.1f}")
    limit = "decode+resize limit (Pillow, all cores)"
    for ours in (command, library):
        print(f"per round, {ours} / {limit}: "
              + ", ".join(f"{r[ours][0] / r[limit][0]:.2f}" for r in rounds))
    print(time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load average %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
