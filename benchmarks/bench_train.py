"""Training speed on the CPU: the full pipeline against the same batches already in memory.

    .venv/bin/python benchmarks/bench_train.py [--arch alex] [--batchsize 32] [--iterations 4]

Makes photo-like JPEGs (``mlimages.demo.synth``, ImageNet/Flickr sizes) and their 256x256 mean,
then, in the same process and alternating, times training steps of ARCH at BATCHSIZE:

* pipeline: what ``StandardUpdater.update()`` does with the BatchLoader (decode, resize,
  random crop, flip, mean, 1/255 in the loader's worker threads, prefetching while the model
  computes): next batch, converter, ``optimizer.update``;
* memory: ``optimizer.update(model, x, t)`` on the same batches, collected beforehand.

The two alternate step by step (two copies of the network), so that both see the same load on
a shared machine.  The loader's cost is (pipeline step time / memory step time - 1), the bar
is 5%; the time spent waiting for the next batch is printed too (it leaves out the CPU the
loader's threads take from the model while they prefetch, which the difference includes, but
it is far less noisy), and the loader's CPU time per batch, measured alone, against the
model's CPU time per step: an upper bound of what the loader can take from the model, far
less sensitive to the other processes of a shared machine than wall-clock differences.  Three rounds of ITERATIONS steps per mode (after one warm-up step
each), medians over the rounds.
AlexNet on 2 CPU cores does about 5-7 images/s, so the default run takes a few minutes.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from mlimages.demo import synth
from mlimages._chainer import chainer
from mlimages.label import LabelOptions, label_tree
from mlimages.loader import BatchLoader, converter
from mlimages.mean import MeanOptions, mean_image
from mlimages.models import build_classifier, get_arch


def make_data(folder, images, size=256, val=0.0, sizes=synth.SIZES, seed=3):
    """A tree of ``images`` photo-like JPEGs (``sizes``) in 4 classes, its lists (``val`` of
    each class in val.txt) and the ``size`` mean: (train list, root, mean.npy)."""
    folder = Path(folder)
    synth.make_tree(folder / "images", classes=4, per_class=max(1, images // 4), seed=seed,
                    sizes=sizes)
    label_tree(folder / "images", folder / "lists", LabelOptions(val=val))
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

    A pipeline step is what ``StandardUpdater.update_core`` does with the loader: take the
    next batch (waiting if the loader is behind), convert it, ``optimizer.update``; the wait
    is timed on its own too.

    Returns:
        lists of seconds: pipeline steps, waits for the loader, memory steps, the CPU time
        (all threads of the process) of pipeline and memory steps, and the wall and CPU time
        per batch of the loader alone (the batches for the memory steps, collected first).
    """
    start, cpu = time.perf_counter(), time.process_time()
    with BatchLoader(*data, crop, batchsize, train=True, seed=seed) as loader:
        batches = [tuple(np.array(a) for a in next(loader)) for _ in range(iterations + 1)]
    alone = (time.perf_counter() - start) / len(batches), (time.process_time() - cpu) / len(batches)
    piped, piped_opt = make_model(arch, crop)
    model, optimizer = make_model(arch, crop)
    pipe, wait, memory, pipe_cpu, memory_cpu = [], [], [], [], []
    with BatchLoader(*data, crop, batchsize, train=True, seed=seed) as loader:
        piped_opt.update(piped, *converter(next(loader)))   # warm-ups (and the loader's start)
        optimizer.update(model, *batches[0])
        for x, t in batches[1:]:
            start, cpu = time.perf_counter(), time.process_time()
            batch = next(loader)
            waited = time.perf_counter() - start
            piped_opt.update(piped, *converter(batch))
            pipe.append(time.perf_counter() - start)
            pipe_cpu.append(time.process_time() - cpu)
            wait.append(waited)
            start, cpu = time.perf_counter(), time.process_time()
            optimizer.update(model, x, t)
            memory.append(time.perf_counter() - start)
            memory_cpu.append(time.process_time() - cpu)
    return pipe, wait, memory, pipe_cpu, memory_cpu, [alone[0]], [alone[1]]


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
            row = [sum(v) / len(v) for v in time_round(
                data, args.arch, crop, args.batchsize, args.iterations, seed=100 + r)]
            pipe, wait, mem, pipe_cpu, mem_cpu, alone, alone_cpu = row
            rows.append(row)
            print(f"round {r + 1}: pipeline {args.batchsize / pipe:6.2f} img/s "
                  f"({pipe:.3f} s/step, {wait:.4f} s waiting for the loader, {pipe_cpu:.2f} s "
                  f"CPU), memory {args.batchsize / mem:6.2f} img/s ({mem:.3f} s/step, "
                  f"{mem_cpu:.2f} s CPU), difference {pipe / mem - 1:+.1%} wall; loader "
                  f"alone {alone:.3f} s, {alone_cpu:.3f} s CPU per batch", flush=True)
    med = statistics.median
    pipe, mem = med(r[0] for r in rows), med(r[2] for r in rows)
    print(f"\n{args.arch}, batch {args.batchsize}, crop {crop}, CPU, medians of {args.rounds} "
          f"rounds x {args.iterations} steps:")
    print(f"  full pipeline      {args.batchsize / pipe:6.2f} images/s")
    print(f"  model only         {args.batchsize / mem:6.2f} images/s")
    print(f"  step time, pipeline / model only - 1: {med(r[0] / r[2] - 1 for r in rows):+.1%} "
          "(bar: at most +5%)")
    print(f"  waiting for the loader: {med(r[1] / r[0] for r in rows):.2%} of the pipeline step")
    print(f"  the loader's CPU per batch / the model's CPU per step: "
          f"{med(r[6] / r[4] for r in rows):.1%} (all of its work, as if none overlapped)")


if __name__ == "__main__":
    main()
