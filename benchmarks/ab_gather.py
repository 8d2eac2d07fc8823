"""Benchmark: ``mlimages gather`` from two source trees, alternating, on bench_gather's site.

Each round runs every tree once (A, B, A, B, ...) against a freshly started site with the
URL mix, latency and flags of ``bench_gather.py``'s "mlimages gather" row (``--retries 0``).
Per run it prints the good images/s, gather's own CPU time (its process and its decode
workers, from ``getrusage``: less sensitive to other load than the wall clock) and when the
manifest reached 2,300 lines and all of them: the last lines are the timeouts of the site's
hanging URLs, so the gap between the two is waiting, not work.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/ab_gather.py OLD_TREE NEW_TREE --rounds 5

A tree is a folder that holds the ``mlimages`` package (``git archive COMMIT mlimages | tar -x
-C DIR``), run with its own bytecode compiled first, as a regular install would have it.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import bench_gather as bg
from mlimages.demo.site import Site, placeholder_png

MARK = 2300  # manifest lines: every URL but the slow tail (timeouts)


def gather_argv(urls, out):
    """The "mlimages gather" row of bench_gather.py (--retries 0), at its defaults."""
    args = argparse.Namespace(parallel=64, timeout=2.0, retries=[0], img2dataset=None)
    return bg.tool_commands(args, str(urls), str(out))["mlimages gather"]


def run_tree(tree, routes, work, tag):
    """One gather run of ``tree``; dict of good/s, CPU s, wall s and manifest times."""
    with Site(latency=bg.LATENCY) as site:
        for path, kind, file in routes:
            site.add(path, *bg.ANSWERS[kind](file))
        out, urls = work / f"out-{tag}", work / "urls.txt"
        urls.write_text("".join(site.url(path) + "\n" for path, _, _ in routes))
        # cwd outside both trees: ``python -m`` would put the working folder first on the path
        env = dict(os.environ, PYTHONPATH=str(tree))
        lines, stop = [], threading.Event()
        watcher = threading.Thread(target=_watch, args=(out / "manifest.jsonl", lines, stop))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        watcher.start()
        done = subprocess.run(gather_argv(urls, out), env=env, cwd=work, capture_output=True,
                              text=True)
        wall = time.perf_counter() - start
        stop.set()
        watcher.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        print(f"{tree} failed ({done.returncode}):\n{done.stderr[-2000:]}", file=sys.stderr)
    good = bg.evaluate(out, placeholder_png())["good"]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"good_per_s": good / wall, "cpu_s": cpu, "wall_s": wall, "good": good,
            "mark_s": _reached(lines, MARK) - start, "all_s": _reached(lines, len(routes)) - start,
            "load": os.getloadavg()[0]}


def _watch(manifest, lines, stop):
    """Append (time, manifest lines) every 20 ms until ``stop``."""
    while not stop.is_set():
        try:
            count = manifest.read_bytes().count(b"\n")
        except OSError:
            count = 0
        lines.append((time.perf_counter(), count))
        time.sleep(0.02)


def _reached(lines, n):
    return next((t for t, count in lines if count >= n), float("nan"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trees", nargs="+", help="folders holding an mlimages package; the first "
                                             "is the baseline of the ratios")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--data", default="bench-data/gather", help="bench_gather.py's --data")
    ap.add_argument("--workdir", default=None,
                    help="where the output folders go (default: the system's temporary folder, "
                         "as bench_gather.py)")
    args = ap.parse_args(argv)
    trees = [Path(t).resolve() for t in args.trees]
    for tree in trees:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "mlimages")],
                       check=True)
    routes = bg.make_data(Path(args.data), 2000)
    results = {tree: [] for tree in trees}
    with tempfile.TemporaryDirectory(prefix="ab-gather-", dir=args.workdir) as tmp:
        for r in range(args.rounds):
            for i, tree in enumerate(trees):
                res = run_tree(tree, routes, Path(tmp), f"{r}-{i}")
                results[tree].append(res)
                print(f"  round {r + 1} {str(tree):<32} {res['good_per_s']:6.1f} good/s  "
                      f"{res['wall_s']:5.2f} s  CPU {res['cpu_s']:5.2f} s  {MARK} lines at "
                      f"{res['mark_s']:4.2f} s, all at {res['all_s']:4.2f} s  ({res['good']} good, "
                      f"load {res['load']:.1f})", flush=True)
    base = results[trees[0]]
    for tree in trees[1:]:
        speed = [a["good_per_s"] / b["good_per_s"] for a, b in zip(results[tree], base)]
        cpu = [a["cpu_s"] / b["cpu_s"] for a, b in zip(results[tree], base)]
        print(f"{tree} / {trees[0]}: good/s x{statistics.median(speed):.2f} (rounds "
              f"{', '.join(f'{x:.2f}' for x in speed)}); CPU x{statistics.median(cpu):.2f} "
              f"(rounds {', '.join(f'{x:.2f}' for x in cpu)})")


if __name__ == "__main__":
    main()
