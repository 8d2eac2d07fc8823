"""CPU training step: Chainer's own functions vs mlimages.models.cpu vs PyTorch, same run.

    .venv/bin/python benchmarks/bench_cpu_train.py [--arch alex small alexbn] [--batchsize 32]
        [--rounds 3] [--torch-python .venv-bench/bin/python]

For each network, ``optimizer.update`` (forward, backward, MomentumSGD with weight decay, as
``mlimages train`` does) on one fixed batch in memory, timed as img/s in three columns:

* chainer: the network with ``MLIMAGES_FAST_CPU=0`` (Chainer's own functions);
* ours: the same network (a second copy, same seed) with ``mlimages.models.cpu``;
* torch: the same architecture in PyTorch (``benchmarks/torch_nets.py``, run by the Python
  of a venv with torch, ``make bench-torch``; the column is skipped with a note when
  there is none), with as many threads as NumPy's BLAS.

The three alternate step by step within every round (the order rotating), so that they
share the load of a shared machine; the load average is printed before and after each network.  Medians of
the rounds, the per-round ratios, and the CPU seconds per step (all threads: less sensitive
to the other processes of a shared machine than the wall clock).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import threadpoolctl

from mlimages._chainer import chainer
from mlimages.models import build_classifier, cpu

STEPS = {"alex": 3, "alexbn": 3, "small": 40}
HERE = Path(__file__).resolve().parent


def blas_threads():
    return max(i["num_threads"] for i in threadpoolctl.threadpool_info()
               if i["user_api"] == "blas")


def make_model(arch, seed=0):
    np.random.seed(seed)
    model = build_classifier(arch, 4)
    optimizer = chainer.optimizers.MomentumSGD(lr=0.01, momentum=0.9).setup(model)
    optimizer.add_hook(chainer.optimizer_hooks.WeightDecay(0.0005))
    return model, optimizer


class ChainerColumn:
    """One copy of the network, stepped with the fast functions on or off."""

    def __init__(self, arch, batchsize, fast):
        self.fast = fast
        self.model, self.optimizer = make_model(arch)
        size = self.model.predictor.insize
        rng = np.random.default_rng(0)
        self.x = rng.random((batchsize, 3, size, size), np.float32)
        self.t = rng.integers(0, 4, batchsize).astype(np.int32)
        self.run(1)  # warm-up (and the lazily sized layers)

    def run(self, steps):
        os.environ[cpu.ENV] = "1" if self.fast else "0"
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(steps):
            self.optimizer.update(self.model, self.x, self.t)
        return time.perf_counter() - start, time.process_time() - cpu_start


class TorchColumn:
    """benchmarks/torch_nets.py in the torch venv's Python, asked for N steps at a time."""

    def __init__(self, python, arch, batchsize, threads):
        self.proc = subprocess.Popen(
            [python, str(HERE / "torch_nets.py"), "--arch", arch, "--batchsize",
             str(batchsize), "--threads", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.version = self.proc.stdout.readline().split()[1:]

    def run(self, steps):
        self.proc.stdin.write(f"{steps}\n")
        self.proc.stdin.flush()
        wall, cpu_seconds = self.proc.stdout.readline().split()
        return float(wall), float(cpu_seconds)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def load():
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def bench(arch, args, torch_python):
    columns = {"chainer": ChainerColumn(arch, args.batchsize, False),
               "ours": ChainerColumn(arch, args.batchsize, True)}
    if torch_python:
        columns["torch"] = TorchColumn(torch_python, arch, args.batchsize, blas_threads())
    steps = args.steps or STEPS[arch]
    print(f"\n{arch}, batch {args.batchsize}, {steps} steps a round; {load()}", flush=True)
    rates, cpus = {name: [] for name in columns}, {name: [] for name in columns}
    for r in range(args.rounds):
        seconds, cpu_seconds = dict.fromkeys(columns, 0.0), dict.fromkeys(columns, 0.0)
        for step in range(steps):  # step by step, the order rotating: the same load for all
            names = list(columns)[step % len(columns):] + list(columns)[:step % len(columns)]
            for name in names:
                wall, used = columns[name].run(1)
                seconds[name] += wall
                cpu_seconds[name] += used
        for name in columns:
            rates[name].append(args.batchsize * steps / seconds[name])
            cpus[name].append(cpu_seconds[name] / steps)
        ratios = ", ".join(f"ours/{n} {rates['ours'][-1] / rates[n][-1]:.2f}x"
                           for n in rates if n != "ours")
        print(f"  round {r + 1}: " + ", ".join(f"{n} {rates[n][-1]:.2f}" for n in rates)
              + f" img/s; {ratios}", flush=True)
    if "torch" in columns:
        columns["torch"].close()
    med = {n: statistics.median(v) for n, v in rates.items()}
    print("  median img/s: " + ", ".join(f"{n} {v:.2f}" for n, v in med.items()), flush=True)
    print("  median CPU s/step (all threads): " + ", ".join(
        f"{n} {statistics.median(v):.3f}" for n, v in cpus.items()))
    for n in med:
        if n != "ours":
            per = [o / v for o, v in zip(rates["ours"], rates[n])]
            print(f"  ours / {n}: {statistics.median(per):.2f}x (rounds: "
                  + ", ".join(f"{p:.2f}" for p in per) + ")")
    print(f"  {load()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", nargs="+", default=["alex", "small", "alexbn"])
    parser.add_argument("--batchsize", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, help="steps a round (default: by network)")
    parser.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON", ""),
                        help="Python of a venv with torch (default: $TORCH_PYTHON)")
    args = parser.parse_args()
    torch_python = args.torch_python if args.torch_python and Path(args.torch_python).exists() \
        else ""
    print(f"numpy {np.__version__}, BLAS threads {blas_threads()}, chainer "
          f"{chainer.__version__}, Python {sys.version.split()[0]}")
    if not torch_python:
        print("torch column skipped: no --torch-python (`make bench-torch` installs one into .venv-bench)")
    for arch in args.arch:
        bench(arch, args, torch_python)


if __name__ == "__main__":
    main()
