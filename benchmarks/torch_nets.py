"""PyTorch's CPU training step on mlimages' networks, for bench_cpu_train.py.

Run by bench_cpu_train.py with the Python of a venv that has torch (never mlimages' .venv):

    VENV/bin/python benchmarks/torch_nets.py --arch alex --batchsize 32 --threads 2

The same layers, sizes, loss and optimiser as ``mlimages.models`` under ``mlimages train``
(MomentumSGD lr 0.01, momentum 0.9, weight decay 5e-4); Chainer's LRN ``alpha`` is torch's
``alpha / n``; Chainer's ``cover_all`` pooling is ``ceil_mode``.  It prints ``ready``, then
answers each line ``N`` on stdin with the wall and CPU seconds N training steps took.
"""

import argparse
import sys
import time

import torch
from torch import nn


def alex(n_classes, bn=False):
    def norm(c):
        return nn.BatchNorm2d(c) if bn else nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, 4), *([norm(96), nn.ReLU()] if bn else [nn.ReLU(), norm(96)]),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(96, 256, 5, padding=2), *([norm(256), nn.ReLU()] if bn else [nn.ReLU(), norm(256)]),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, n_classes))


def small(n_classes):
    return nn.Sequential(
        nn.Conv2d(3, 24, 6, 2, 2), nn.ReLU(), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Conv2d(24, 48, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Conv2d(48, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, n_classes))


NETS = {"alex": (lambda n: alex(n), 227), "alexbn": (lambda n: alex(n, bn=True), 227),
        "small": (small, 64)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", choices=sorted(NETS), default="alex")
    parser.add_argument("--batchsize", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--classes", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    make, size = NETS[args.arch]
    net = make(args.classes).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.rand(args.batchsize, 3, size, size)
    t = torch.randint(0, args.classes, (args.batchsize,))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), t).backward()
        opt.step()
    step()  # warm-up
    print("ready", torch.__version__, torch.get_num_threads(), flush=True)
    for line in sys.stdin:
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(int(line)):
            step()
        print(time.perf_counter() - start, time.process_time() - cpu, flush=True)


if __name__ == "__main__":
    main()
