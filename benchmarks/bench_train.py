"""Training speed on the CPU: the full pipeline against the same batches already in memory.

    .venv/bin/python benchmarks/bench_train.py [--arch alex] [--batchsize 32] [--iterations 4]

Makes photo-like JPEGs (``mlimages.synth``, ImageNet/Flickr sizes) and their 256x256 mean,
then, in the same process and alternating, times training steps of ARCH at BATCHSIZE:

* pipeline: ``StandardUpdater.update()`` fed by the BatchLoader (decode, resize, random crop,
  flip, mean, 1/255 in the loader's worker threads, prefetching while the model computes);
* memory: ``optimizer.update(model, x, t)`` on the same batches, collected beforehand.

The two alternate step by step (two copies of the network), so that both see the same load on
a shared machine.  The loader's cost is (pipeline step time / memory step time - 1); the bar
is 5%.  Three rounds of ITERATIONS steps per mode (after one warm-up step each), medians over
the rounds.
AlexNet on 2 CPU cores does about 5-7 images/s, so the default run takes a few minutes.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from mlimages import synth
from mlimages._chainer import chainer, training
from mlimages.label import LabelOptions, label_tree
from mlimages.loader import BatchLoader
from mlimages.mean import MeanOptions, mean_image
from mlimages.models import build_classifier, get_arch


def make_data(folder, images, size=256):
    """A class-per-folder tree of ``images`` photo-like JPEGs, its list and 256x256 mean."""
    folder = Path(folder)
    synth.make_tree(folder / "images", classes=4, per_class=images // 4, seed=3)
    label_tree(folder / "images", folder / "lists", LabelOptions())
    mean_image(folder / "lists" / "train.txt", folder / "images", folder / "mean.png",
               MeanOptions(size=size), progress=False)
    return folder / "lists" / "train.txt", folder / "images", folder / "mean.npy"


def make_model(arch, crop, seed=0):
    np.random.seed(seed)
    model = build_classifier(arch, 4)
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        model.predictor(np.zeros((1, 3, crop, crop), np.float32))
    optimizer = chainer.optimizers.MomentumSGD(lr=0.01, momentum=0.9).setup(model)
    optimizer.add_hook(chainer.optimizer_hooks.WeightDecay(0.0005))
    return model, optimizer


def time_round(data, arch, crop, batchsize, iterations, seed):
    """Seconds per step of both modes, alternating step by step so that both see the same
    load on a shared machine.

    Returns:
        (pipeline seconds, memory seconds), lists of ``iterations`` step times each.
    """
    with BatchLoader(*data, crop, batchsize, train=True, seed=seed) as loader:
        batches = [tuple(np.array(a) for a in next(loader)) for _ in range(iterations + 1)]
    piped, piped_opt = make_model(arch, crop)
    model, optimizer = make_model(arch, crop)
    loader = BatchLoader(*data, crop, batchsize, train=True, seed=seed)
    updater = training.updaters.StandardUpdater(loader, piped_opt,
                                                converter=BatchLoader.converter)
    pipe, memory = [], []
    try:
        updater.update()                                  # warm-ups (and the loader's start)
        optimizer.update(model, *batches[0])
        for x, t in batches[1:]:
            start = time.perf_counter()
            updater.update()
            pipe.append(time.perf_counter() - start)
            start = time.perf_counter()
            optimizer.update(model, x, t)
            memory.append(time.perf_counter() - start)
    finally:
        loader.finalize()
    return pipe, memory


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="alex")
    parser.add_argument("--batchsize", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=4, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", type=int, default=160, help="generated JPEGs")
    args = parser.parse_args()
    crop = get_arch(args.arch).insize
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(tmp, args.images)
        rows = []
        for r in range(args.rounds):
            pipe, mem = time_round(data, args.arch, crop, args.batchsize, args.iterations,
                                   seed=100 + r)
            pipe, mem = sum(pipe) / len(pipe), sum(mem) / len(mem)
            rows.append((pipe, mem))
            print(f"round {r + 1}: pipeline {args.batchsize / pipe:6.2f} img/s "
                  f"({pipe:.3f} s/step), memory {args.batchsize / mem:6.2f} img/s "
                  f"({mem:.3f} s/step), loader cost {pipe / mem - 1:+.1%}", flush=True)
    pipe = statistics.median(p for p, _ in rows)
    mem = statistics.median(m for _, m in rows)
    cost = statistics.median(p / m - 1 for p, m in rows)
    print(f"\n{args.arch}, batch {args.batchsize}, crop {crop}, CPU, medians of {args.rounds} "
          f"rounds x {args.iterations} steps:")
    print(f"  full pipeline   {args.batchsize / pipe:6.2f} images/s")
    print(f"  model only      {args.batchsize / mem:6.2f} images/s")
    print(f"  loader cost     {cost:+.1%} of the step time (bar: at most +5%)")


if __name__ == "__main__":
    main()
