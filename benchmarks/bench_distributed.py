"""Data-parallel training speed: the `small` network with 1 and 2 MPI processes, same run.

    .venv/bin/python benchmarks/bench_distributed.py [--images 384] [--batchsize 32]
        [--epoch 3] [--rounds 3]

Makes photo-like JPEGs (``mlimages.demo.synth``), their list and a 72x72 mean, then runs, in
alternation for ``--rounds`` rounds (so that both see the same load on a shared machine):

* ``mpiexec -n 1 mlimages train ... --distributed`` (the baseline: one process, MPI included),
* ``mpiexec -n 2 mlimages train ... --distributed`` (two ranks, ``naive`` communicator),

each with ``--batchsize`` images per rank (weak scaling: what data parallelism is for).
Images/s come from the run's own ``log`` (one entry per iteration, ``elapsed_time``), from
the end of the first iteration to the last: start-up (imports, MPI, the scatter) and the
first step are left out.  Prints every round, the medians and the ratio of medians; also the
median time of one step, which the scaling model in the README starts from.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from mlimages.demo import synth
from mlimages.label import LabelOptions, label_tree
from mlimages.mean import MeanOptions, mean_image

MPIEXEC = Path(sys.executable).parent / "mpiexec"


def make_data(folder, images):
    folder = Path(folder)
    synth.make_tree(folder / "images", classes=4, per_class=images // 4, seed=5)
    label_tree(folder / "images", folder / "lists", LabelOptions())
    mean_image(folder / "lists" / "train.txt", folder / "images", folder / "mean.png",
               MeanOptions(size=72), progress=False)
    return folder


def run(data, out, ranks, batchsize, epoch):
    """One training run; returns (images/s, seconds per step) from its log."""
    cmd = [str(MPIEXEC), "-n", str(ranks), sys.executable, "-m", "mlimages", "train",
           str(data / "lists" / "train.txt"), "--root", str(data / "images"),
           "--mean", str(data / "mean.npy"), "--arch", "small", "--out", str(out),
           "--batchsize", str(batchsize), "--epoch", str(epoch), "--log-interval", "1",
           "--snapshot-interval", "100000", "--seed", "0", "--quiet", "--distributed"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=900)
    log = [e for e in json.loads((Path(out) / "log").read_text()) if "elapsed_time" in e]
    first, last = log[0], log[-1]
    steps = last["iteration"] - first["iteration"]
    seconds = last["elapsed_time"] - first["elapsed_time"]
    return steps * batchsize * ranks / seconds, seconds / steps


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=384)
    p.add_argument("--batchsize", type=int, default=32, help="per rank")
    p.add_argument("--epoch", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    if not MPIEXEC.exists():
        sys.exit(f"no {MPIEXEC}: pip install 'mlimages[mpi]'")
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(Path(tmp) / "data", args.images)
        results = {1: [], 2: []}
        for r in range(args.rounds):
            for ranks in (1, 2):
                ips, step = run(data, Path(tmp) / f"out-{r}-{ranks}", ranks, args.batchsize,
                                args.epoch)
                results[ranks].append((ips, step))
                print(f"round {r + 1}: {ranks} process(es): {ips:7.1f} images/s, "
                      f"{step * 1000:6.1f} ms per step", flush=True)
    med = {n: (statistics.median(i for i, _ in v), statistics.median(s for _, s in v))
           for n, v in results.items()}
    print(f"\nsmall network, batch {args.batchsize} per rank, {args.images} images, "
          f"{os.cpu_count()} CPUs, medians of {args.rounds} rounds:")
    for n, (ips, step) in med.items():
        print(f"  {n} process(es): {ips:7.1f} images/s  {step * 1000:6.1f} ms per step")
    print(f"  2 / 1 processes: {med[2][0] / med[1][0]:.2f}x images/s "
          f"(ideal 2.00x; efficiency {med[2][0] / med[1][0] / 2:.0%})")


if __name__ == "__main__":
    main()
