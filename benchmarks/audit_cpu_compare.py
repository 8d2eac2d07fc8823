"""The audit scan's CPU time per image in a 2-process pool's workers, against plain Pillow
draft decoding of the same files in the same pool: for comparing two versions of the library
on a loaded machine (CPU time is stretched less than wall-clock time by other load).

    PYTHONPATH=<library>:. python benchmarks/audit_cpu_compare.py [--images 400] [--repeat 5]

Works with any version of ``mlimages.audit.scan``: its ``scan_batch`` where it has one, else
``scan_one`` per image. 4 rounds alternating which side runs first, batches of 32 paths per
task for both sides; prints the workers' CPU ms per image and the median plain/audit ratio.
"""

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

from mlimages._fs import pool_context
from mlimages.audit import scan
from mlimages.demo import synth

BATCH = 32
ROUNDS = 4


def _plain(paths):
    start = time.process_time()
    for p in paths:
        with Image.open(p) as im:
            im.draft("RGB", (128, 128))
            im.load()
    return time.process_time() - start


def _audit(paths):
    start = time.process_time()
    if hasattr(scan, "scan_batch"):
        scan.scan_batch(paths)
    else:
        [scan.scan_one(p) for p in paths]
    return time.process_time() - start


def _workers_ms(fn, paths):
    batches = [paths[k:k + BATCH] for k in range(0, len(paths), BATCH)]
    with ProcessPoolExecutor(2, mp_context=pool_context()) as pool:
        return sum(pool.map(fn, batches)) / len(paths) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        synth.make_tree(tmp, classes=4, per_class=args.images // 4, seed=3)
        paths = sorted(str(p) for p in Path(tmp).rglob("*.jpg")) * args.repeat
        out = {"plain": [], "audit": []}
        for r in range(ROUNDS):
            for side in (("plain", "audit") if r % 2 == 0 else ("audit", "plain")):
                out[side].append(_workers_ms(_plain if side == "plain" else _audit, paths))
    ratio = statistics.median(p / a for p, a in zip(out["plain"], out["audit"]))
    print(f"{scan.__file__}: workers' CPU ms/img per round: audit "
          f"{'/'.join(f'{x:.2f}' for x in out['audit'])}, plain "
          f"{'/'.join(f'{x:.2f}' for x in out['plain'])}; plain/audit median {ratio:.2f}x")


if __name__ == "__main__":
    main()
