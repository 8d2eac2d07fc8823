"""The PyTorch baseline of bench_loader.py: ``DataLoader(num_workers=cores)`` on the same files.

Runs in a venv with torch (``make bench-torch`` installs it into the bench venv; mlimages'
own venv never gets torch) and prints one JSON line: ``{"rate": images/s}``.

The dataset does what bench_loader's Chainer baseline does, the PyTorch way: Pillow decodes
to RGB, a random 227 crop (every offset possible) and a random horizontal flip of the uint8
array, then a float32 tensor (C, H, W) minus the mean crop, times 1/255; the DataLoader
shuffles, batches (default collate, in the workers) and keeps its workers between epochs.
Timed like the other contenders: ``--batches`` batches after one warm-up batch.

Usage: .venv-bench/bin/python benchmarks/torch_loader.py --list L --root R --mean M.npy
"""

import argparse
import json
import os
import random
import time

import numpy
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset


class PhotoSet(Dataset):
    def __init__(self, list_file, root, mean, crop):
        with open(list_file) as f:
            pairs = [line.rsplit(None, 1) for line in f if line.strip()]
        self.items = [(os.path.join(root, path), int(label)) for path, label in pairs]
        self.mean, self.crop = torch.from_numpy(mean), crop

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        hwc = numpy.asarray(Image.open(path).convert("RGB"))
        crop = self.crop
        top = random.randint(0, hwc.shape[0] - crop)
        left = random.randint(0, hwc.shape[1] - crop)
        window = hwc[top:top + crop, left:left + crop]
        if random.random() < 0.5:
            window = window[:, ::-1]
        x = torch.from_numpy(numpy.ascontiguousarray(window)).permute(2, 0, 1).float()
        x.sub_(self.mean[:, top:top + crop, left:left + crop]).mul_(1.0 / 255.0)
        return x, label


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--mean", required=True, help="float32 (C, S, S) .npy")
    ap.add_argument("--crop", type=int, default=227)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--batches", type=int, default=120)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    dataset = PhotoSet(args.list, args.root, numpy.load(args.mean).astype(numpy.float32),
                       args.crop)
    loader = DataLoader(dataset, args.batch, shuffle=True, num_workers=args.workers,
                        persistent_workers=True, drop_last=True)

    def batches():
        while True:
            yield from loader

    it = batches()
    next(it)
    count, start = 0, time.perf_counter()
    for _ in range(args.batches):
        x, _ = next(it)
        count += len(x)
    print(json.dumps({"rate": count / (time.perf_counter() - start),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
