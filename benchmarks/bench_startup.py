"""Start-up of the command line: `mlimages gather --help` and a 1-URL gather, this tree against
another checkout (the baseline) in the same run, rounds alternating.

    python benchmarks/bench_startup.py --baseline /path/to/old/checkout [--runs 7 --rounds 3]

Each command runs as ``python -m mlimages`` with PYTHONPATH set to the tree under test, so both
trees use the same interpreter and packages. Both trees are byte-compiled first (as
``make setup`` does). The 1-URL gather asks 127.0.0.1:9 (discard port, refused at once), so it
measures start-up, the event loop and the summary, not the network. Prints wall and CPU
(user + system of the child) medians per tree and the ratio after/before.
"""

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _run(tree, args):
    env = dict(os.environ, PYTHONPATH=str(tree))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mlimages", *args], env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _commands(work):
    urls = work / "urls.txt"
    urls.write_text("http://127.0.0.1:9/x.jpg\n")
    counter = iter(range(10**6))
    return {
        "gather --help": lambda: ["gather", "--help"],
        "1-URL gather": lambda: ["gather", "--urls", str(urls), "--label", "x", "--out",
                                 str(work / f"out{next(counter)}"), "--quiet", "--retries",
                                 "0", "--timeout", "2"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="checkout of the tree to compare with")
    parser.add_argument("--runs", type=int, default=7, help="runs of each command per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, trees alternating")
    args = parser.parse_args()
    trees = {"baseline": Path(args.baseline).resolve(), "this tree": HERE}
    for tree in trees.values():
        compileall.compile_dir(tree / "mlimages", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        commands = _commands(Path(tmp))
        times = {(t, c): [] for t in trees for c in commands}
        for _ in range(args.rounds):
            for label, tree in trees.items():
                for name, argv in commands.items():
                    times[label, name] += [_run(tree, argv()) for _ in range(args.runs)]
    print(f"load average at the end: {os.getloadavg()[0]:.2f}; {args.rounds} rounds x "
          f"{args.runs} runs")
    for name in commands:
        base = [statistics.median(x) for x in zip(*times["baseline", name])]
        this = [statistics.median(x) for x in zip(*times["this tree", name])]
        print(f"{name:15s} baseline wall {base[0] * 1000:6.0f} ms cpu {base[1] * 1000:5.0f} ms | "
              f"this tree wall {this[0] * 1000:6.0f} ms cpu {this[1] * 1000:5.0f} ms | "
              f"ratio wall {this[0] / base[0]:.2f} cpu {this[1] / base[1]:.2f}")


if __name__ == "__main__":
    main()
