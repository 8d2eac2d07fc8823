"""Distributed gather: ``mpiexec -n 1`` against ``-n 2`` (and ``-n 2 --work``), same run.

    .venv/bin/python benchmarks/bench_gather_distributed.py [--images 1000] [--rounds 3]

A local site (127.0.0.1 only, :mod:`mlimages.demo.site`, in this process, LATENCY added to
every request) serves ``--images`` photo-sized JPEGs (``bench_gather.make_data``'s photos,
generated once into bench-data/gather/).  Each round runs, against a freshly started site and
into a fresh folder, in turn (so that all see the same load on a shared machine):

* ``mpiexec -n 1 mlimages gather ... --distributed`` (the baseline: one rank, MPI included),
* ``mpiexec -n 2 mlimages gather ... --distributed`` (two ranks, OUT shared),
* ``mpiexec -n 2 mlimages gather ... --distributed --work DIR`` (shards shipped to rank 0).

Figures per run: the command's wall clock (MPI start-up, imports, gathering, merge: what a
user waits for), images/s over that wall clock, and the gathering phase alone (images kept /
the slowest rank's own elapsed time, from ``summary.json``); the rest of the wall clock is
start-up plus the merge (and the shipping).  Prints every run, the medians, the ratios of
medians, and the parameters of the README's model for N machines.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_gather import LATENCY, make_data  # noqa: E402

from mlimages.demo.site import Site, photo  # noqa: E402

MPIEXEC = Path(sys.executable).parent / "mpiexec"
CONFIGS = {"1 rank": (1, False), "2 ranks": (2, False), "2 ranks --work": (2, True)}


def run(routes, workdir, name, ranks, work):
    """One job against a fresh site; its figures."""
    with Site(latency=LATENCY) as site:
        for path, _, file in routes:
            site.add(path, photo(file))
        urls = workdir / f"urls-{name}.txt"
        urls.write_text("".join(site.url(path) + "\n" for path, _, _ in routes))
        out = workdir / f"out-{name}"
        cmd = [str(MPIEXEC), "-n", str(ranks), sys.executable, "-m", "mlimages", "gather",
               "--urls", str(urls), "--label", "photos", "--out", str(out), "--distributed",
               "--quiet"] + (["--work", str(workdir / f"work-{name}")] if work else [])
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, timeout=1800)
        wall = time.perf_counter() - start
    summary = json.loads((out / "summary.json").read_text())
    kept = summary["manifest"]["by_status"].get("ok", 0)
    gathering = max(r["elapsed_s"] for r in summary["job"]["per_rank"])
    load = float(Path("/proc/loadavg").read_text().split()[0])
    job = summary["job"]
    return {"wall": wall, "kept": kept, "per_s": kept / wall, "gather_per_s": kept / gathering,
            "other_s": wall - gathering, "merge_s": job["merge_s"], "ship_s": job["ship_s"],
            "load": load}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--data", default="bench-data/gather", help="cache of generated images")
    args = p.parse_args()
    if not MPIEXEC.exists():
        sys.exit(f"no {MPIEXEC}: pip install 'mlimages[mpi]'")
    routes = [r for r in make_data(Path(args.data), args.images) if r[1] == "good"]
    print(f"{len(routes)} photos, {LATENCY * 1000:.0f} ms latency, default --parallel; "
          f"{args.rounds} rounds", flush=True)
    results = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, (ranks, work) in CONFIGS.items():
                got = run(routes, Path(tmp), f"{r}-{ranks}-{int(work)}", ranks, work)
                results[name].append(got)
                print(f"round {r + 1}: {name:<15} {got['wall']:6.2f} s wall, "
                      f"{got['per_s']:6.1f} images/s (gathering {got['gather_per_s']:6.1f}/s; "
                      f"not gathering {got['other_s']:5.2f} s: merge {got['merge_s']:.2f} s, "
                      f"shipping {got['ship_s']:.2f} s), {got['kept']} kept, "
                      f"load {got['load']:.2f}", flush=True)
    report(results, len(routes))


def report(results, images):
    med = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
           for name, runs in results.items()}
    print("\nmedians:")
    for name, m in med.items():
        print(f"  {name:<15} {m['wall']:6.2f} s wall, {m['per_s']:6.1f} images/s, gathering "
              f"{m['gather_per_s']:6.1f} images/s, not gathering {m['other_s']:5.2f} s (merge "
              f"{m['merge_s']:.2f} s, shipping {m['ship_s']:.2f} s)")
    base = med["1 rank"]
    for name in ("2 ranks", "2 ranks --work"):
        print(f"{name} / 1 rank: images/s (wall) x{med[name]['per_s'] / base['per_s']:.2f}, "
              f"gathering x{med[name]['gather_per_s'] / base['gather_per_s']:.2f}")
    two, work = med["2 ranks"], med["2 ranks --work"]
    print(f"model inputs: r = {base['gather_per_s']:.1f} images/s per machine (one rank); "
          f"start-up {base['other_s'] - base['merge_s']:.2f} s (1 rank), "
          f"{two['other_s'] - two['merge_s']:.2f} s (2 ranks); merge "
          f"{two['merge_s'] / images * 1000:.3f} ms per image; shipping "
          f"{work['ship_s'] / images * 1000:.3f} ms per image (MPI within one host)")


if __name__ == "__main__":
    main()
