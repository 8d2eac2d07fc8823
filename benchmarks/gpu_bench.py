"""Training speed on a device: the real loader pipeline against the same batches already there.

    python benchmarks/gpu_bench.py --gpu 0 [--config alex:128 --config alex:256 ...]
        [--iterations 100] [--rounds 3] [--images 1024] [--json FILE]

Makes ``--images`` photo-like 256x256 JPEGs (``mlimages.demo.synth``) and their mean, then
for each ARCH:BATCH times MomentumSGD steps of that network on ``--gpu`` (-1: the CPU):

* pipeline: what the Trainer does: the next batch from ``BatchLoader`` (decode, crop, flip,
  mean, scale in as many worker threads as there are cores), ``converter`` to the device,
  ``optimizer.update``;
* resident: ``optimizer.update`` on batches already on the device (the model's own speed).

Rounds alternate the two modes; the device is synchronised before each clock reading.  The
pipeline's cost is resident / pipeline images per second.  A configuration that does not fit
in the device's memory is reported as such and skipped.  Prints one line per round and a
table; ``--json`` writes the medians for `benchmarks/gpu_check.sh`'s summary.
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import bench_train
from mlimages._chainer import chainer
from mlimages.loader import BatchLoader, converter
from mlimages.models import build_classifier, get_arch
from mlimages.training.device import check_gpu

CLASSES = 4  # bench_train.make_data's classes


def make_data(folder, images, val=0.0):
    """``images`` 256x256 JPEGs in 4 classes (``bench_train.make_data``), their lists and
    mean: (train list, root, mean), as strings."""
    data = bench_train.make_data(folder, images, val=val, sizes=((256, 256),), seed=5)
    return tuple(str(p) for p in data)


def make_model(arch, device):
    """A classifier of ARCH on ``device`` with train_imagenet's optimiser (seeded weights)."""
    np.random.seed(0)
    model = build_classifier(arch, CLASSES)
    crop = get_arch(arch).insize
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        model.predictor(np.zeros((1, 3, crop, crop), np.float32))
    model.to_device(device)
    optimizer = chainer.optimizers.MomentumSGD(lr=0.01, momentum=0.9).setup(model)
    optimizer.add_hook(chainer.optimizer_hooks.WeightDecay(0.0005))
    return model, optimizer


def synchronize(device):
    """Wait for the device's queued work (nothing to wait for on the CPU)."""
    if device.xp is not np:
        device.device.synchronize()


def timed_steps(device, step, count):
    """Seconds for ``count`` calls of ``step(i)``, the device synchronised at both ends."""
    synchronize(device)
    start = time.perf_counter()
    for i in range(count):
        step(i)
    synchronize(device)
    return time.perf_counter() - start


def measure(data, arch, batch, device, iterations, rounds):
    """Images/s of each round, pipeline and resident: ``{"pipeline": [...], "resident": [...]}``."""
    model, optimizer = make_model(arch, device)
    crop = get_arch(arch).insize
    per_round = max(1, iterations // rounds)
    rates = {"pipeline": [], "resident": []}
    with BatchLoader(*data, crop, batch, train=True, seed=1, workers=os.cpu_count()) as loader:
        def piped(_):
            optimizer.update(model, *converter(next(loader), device))
        resident = [converter(next(loader), device) for _ in range(min(per_round, 8))]

        def in_place(i):
            optimizer.update(model, *resident[i % len(resident)])
        timed_steps(device, piped, 2)                         # warm-up: kernels, the loader
        timed_steps(device, in_place, 1)
        for _ in range(rounds):
            rates["pipeline"].append(batch * per_round / timed_steps(device, piped, per_round))
            rates["resident"].append(batch * per_round / timed_steps(device, in_place, per_round))
    return rates


def out_of_memory(error):
    """Whether ``error`` is the device running out of memory."""
    return "OutOfMemory" in type(error).__name__ or "out of memory" in str(error).lower()


def run_config(data, config, device, args):
    """One ARCH:BATCH row of the table (its medians, or why it did not run)."""
    arch, batch = config.split(":")
    row = {"arch": arch, "batch": int(batch)}
    try:
        rates = measure(data, arch, int(batch), device, args.iterations, args.rounds)
    except Exception as error:                    # noqa: BLE001 (reported in the table)
        if not out_of_memory(error):
            raise
        return {**row, "skipped": f"out of device memory: {error}"[:200]}
    for r, (p, m) in enumerate(zip(rates["pipeline"], rates["resident"]), 1):
        print(f"{arch} batch {batch} round {r}: pipeline {p:8.1f} img/s, resident {m:8.1f} "
              f"img/s, ratio {p / m:.2f}", flush=True)
    med = statistics.median
    return {**row, "pipeline": med(rates["pipeline"]), "resident": med(rates["resident"]),
            "ratio": med(p / m for p, m in zip(rates["pipeline"], rates["resident"]))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gpu", type=int, default=0, help="CUDA device; -1: the CPU")
    parser.add_argument("--config", action="append", help="ARCH:BATCH (repeatable; default "
                        "alex:128, alex:256, small:128)")
    parser.add_argument("--iterations", type=int, default=120, help="timed steps per mode")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", type=int, default=1024, help="generated JPEGs")
    parser.add_argument("--json", help="write the table here")
    args = parser.parse_args()
    configs = args.config or ["alex:128", "alex:256", "small:128"]
    device = check_gpu(args.gpu)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(tmp, args.images)
        for config in configs:
            rows.append(run_config(data, config, device, args))
    print(f"\n{'arch':8} {'batch':>5} {'pipeline img/s':>15} {'resident img/s':>15} {'ratio':>6}"
          f"   ({device}, medians of {args.rounds} rounds)")
    for row in rows:
        if "skipped" in row:
            print(f"{row['arch']:8} {row['batch']:5}   {row['skipped']}")
        else:
            print(f"{row['arch']:8} {row['batch']:5} {row['pipeline']:15.1f} "
                  f"{row['resident']:15.1f} {row['ratio']:6.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"device": str(device), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
