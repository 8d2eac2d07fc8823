"""Benchmark: mlimages gather vs a naive requests pool vs img2dataset, in the same run.

A local site (127.0.0.1 only, mlimages.demo.site, in this process) adds LATENCY (20 ms) to every
request and serves IMAGES photo-sized JPEGs (mlimages.demo.synth, 500x375 and friends) plus a
realistic mix of broken links: 404, 410, 500 then 200, 503, 429 with Retry-After, hangs past
the timeout, connection resets, HTML pages, truncated JPEGs, empty bodies, redirects to the
Flickr placeholder PNG, bodies over the byte cap and PNGs behind .jpg URLs.  Each tool runs as
a subprocess at the same concurrency against a freshly started site; its wall clock is timed;
then every file it kept is decoded in full and compared with the placeholder.  The first row,
"floor", is floor_client.py: a bare client that only requests the URLs in list order at the
same concurrency (no file, no validation, no redirect): since the run ends only once the last
hanging URL has timed out, no tool can end sooner, and the report gives the ceiling this puts
on gather's ratio to img2dataset.

    .venv/bin/python benchmarks/bench_gather.py            # 3 repeats, medians
    IMG2DATASET=/path/to/img2dataset .venv/bin/python benchmarks/bench_gather.py

Images are generated once into bench-data/gather/ (git-ignored).
"""

import argparse
import hashlib
import io
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from mlimages.demo.site import (PNG, Answer, Site, gone, hang, html_page, not_found, photo,
                                placeholder_png, to_placeholder, truncated)
from mlimages.demo.synth import PATTERNS, SIZES, make_image
from mlimages.gather.validate import dhash
from mlimages.image import ImageError, verify_image

HERE = Path(__file__).resolve().parent
DEFAULT_IMG2DATASET = "/tmp/venv-img2dataset/bin/img2dataset"
# kind -> how many; "good" is set by --images.  Roughly the proportions of a real ImageNet
# URL list (the tutorial the issue cites had over 10% placeholders; this mix has about 3%).
MIX = {"png": 20, "missing": 60, "gone": 20, "flaky": 20, "down": 10, "busy": 10, "hang": 5,
       "reset": 10, "html": 40, "truncated": 20, "empty": 20, "dead": 71, "big": 10}
GOOD_KINDS = ("good", "png", "flaky", "busy")  # kinds that end as a decodable photo
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp"}
LATENCY = 0.020  # seconds the site adds to every request
FLOOR = "floor: bare HTTP client"  # requests only (floor_client.py): no tool can end sooner
# kind -> what the site answers at a URL of that kind, given the file the kind serves
ANSWERS = {
    "good": lambda f: [photo(f)],
    "big": lambda f: [photo(f)],
    "png": lambda f: [photo(f, PNG)],
    "truncated": lambda f: [truncated(f.read_bytes())],
    "empty": lambda f: [photo(b"")],
    "missing": lambda f: [not_found()],
    "gone": lambda f: [gone()],
    "html": lambda f: [html_page()],
    "dead": lambda f: [to_placeholder()],
    "hang": lambda f: [hang()],
    "reset": lambda f: [Answer(reset=True)],
    "down": lambda f: [Answer(503)],
    "flaky": lambda f: [Answer(500), photo(f)],
    "busy": lambda f: [Answer(429, headers={"Retry-After": "1"}), photo(f)],
}


# ------------------------------------------------------------------ data
def make_data(data, n_images):
    """Write the photos and the odd bodies under ``data``; returns the site's routes.

    Returns:
        list of ``(URL path, kind, file)``, in a fixed shuffled order.
    """
    photos = data / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        path = photos / f"{i:05d}.jpg"
        if not path.exists():
            im = make_image(PATTERNS[i % len(PATTERNS)], SIZES[i % len(SIZES)], seed=i)
            im.save(path, quality=85)
    file_of = write_odd_bodies(data)
    file_of["truncated"] = photos / "00000.jpg"
    routes = [(f"/photos/{i:05d}.jpg", "good", photos / f"{i:05d}.jpg") for i in range(n_images)]
    for kind, count in MIX.items():
        routes += [(f"/{kind}/{i:03d}.jpg", kind,
                    file_of.get(kind, photos / f"{(i * 7) % n_images:05d}.jpg"))
                   for i in range(count)]
    random.Random(0).shuffle(routes)
    return routes


def write_odd_bodies(data):
    """A PNG photo and a JPEG over the 2 MB cap; returns ``{kind: file}``."""
    buf = io.BytesIO()
    make_image("waves", (375, 500), seed=10**6).save(buf, "PNG")
    (data / "photo.png").write_bytes(buf.getvalue())
    noise = np.random.default_rng(0).integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "JPEG", quality=95)  # about 3 MB, over the 2 MB cap
    (data / "big.jpg").write_bytes(buf.getvalue())
    return {"png": data / "photo.png", "big": data / "big.jpg"}


# ------------------------------------------------------------------ tools
def tool_commands(args, urls, out):
    """name -> argv, all at the same concurrency (``--parallel``)."""
    p, t = str(args.parallel), str(args.timeout)
    commands = {
        FLOOR: [sys.executable, str(HERE / "floor_client.py"), urls, out, p, t],
        "naive requests pool": [sys.executable, str(HERE / "naive_pool.py"), urls, out, p, t],
        "requests pool + verify_image": [sys.executable, str(HERE / "naive_pool.py"), urls, out,
                                         p, t, "--validate"],
    }
    for retries in args.retries:
        name = "mlimages gather" + (f" --retries {retries}" if retries else "")
        commands[name] = [sys.executable, "-m", "mlimages", "gather", "--urls", urls,
                          "--out", out, "--parallel", p, "--per-host", p, "--timeout", t,
                          "--retries", str(retries), "--backoff", "0.5", "--max-bytes", "2MB",
                          "--quiet"]
    if args.img2dataset:
        procs = args.img2dataset_processes
        commands["img2dataset 1.47"] = [
            args.img2dataset, "--url_list", urls, "--input_format", "txt", "--output_folder",
            out, "--output_format", "files", "--processes_count", str(procs),
            "--thread_count", str(args.parallel // procs), "--timeout", t, "--retries", "0",
            "--resize_mode", "no", "--skip_reencode", "True", "--enable_wandb", "False"]
    return commands


def evaluate(out, placeholder, started=None, first=None):
    """Decode every image file a tool kept: counts of good, broken and placeholder files.

    With ``started`` (``time.time()`` when the tool was launched) and ``first`` (a count), also
    ``first_s``: seconds from the launch to the ``first``-th good file in its final state (the
    files' ctimes: a write, or gather's rename after validation), NaN if it kept fewer.
    """
    ph_sha1, ph_hash = hashlib.sha1(placeholder).hexdigest(), dhash(placeholder)
    counts = {"files": 0, "good": 0, "broken": 0, "placeholder": 0}
    done_at = []
    for path in Path(out).rglob("*"):
        if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        counts["files"] += 1
        body = path.read_bytes()
        try:
            verify_image(body, draft=False)
        except ImageError:
            counts["broken"] += 1
            continue
        if hashlib.sha1(body).hexdigest() == ph_sha1 or (dhash(body) ^ ph_hash).bit_count() <= 5:
            counts["placeholder"] += 1
        else:
            counts["good"] += 1
            done_at.append(path.stat().st_ctime)
    if started is not None:
        done_at.sort()
        counts["first_s"] = done_at[first - 1] - started if len(done_at) >= first else math.nan
    return counts


def create_ms(workdir, files=100):
    """Median milliseconds to create and write a 60 KB file in a new folder under ``workdir``:
    what each tool pays per kept image, which the file system's recent past can raise 50x
    (benchmarks/RESULTS.md, 2026-12-03). The folder is left for the run's own clean-up."""
    probe = Path(workdir) / "create-probe"
    probe.mkdir()
    body, times = bytes(60_000), []
    for i in range(files):
        start = time.perf_counter()
        (probe / f"{i}.jpg").write_bytes(body)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run_once(name, argv, routes, workdir, run_id, first):
    """Run one tool against a freshly started site (fresh 500/429 state); its counts, and
    ``first_per_s``: good images per second until the ``first``-th was kept."""
    with Site(latency=LATENCY) as site:
        for path, kind, file in routes:
            site.add(path, *ANSWERS[kind](file))
        # A fresh folder per run, all deleted at the end, never between runs: for about 30 s
        # after thousands of files are deleted, ext4 makes every new file slow to create
        # (recently_deleted() in find_inode_bit; measured: 0.9 ms instead of 0.1 ms per file),
        # which would tax whichever tool ran next.
        out = workdir / f"out-{run_id}"
        urls = workdir / "urls.txt"
        urls.write_text("".join(site.url(path) + "\n" for path, _, _ in routes))
        argv = [a.replace("{URLS}", str(urls)).replace("{OUT}", str(out)) for a in argv]
        env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1")
        started, start = time.time(), time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        print(f"{name} failed ({done.returncode}):\n{done.stderr[-2000:]}", file=sys.stderr)
    load = float(Path("/proc/loadavg").read_text().split()[0]) if Path("/proc/loadavg").exists() \
        else float("nan")
    counts = evaluate(out, placeholder_png(), started, first)
    counts.update(wall_s=wall, urls_per_s=len(routes) / wall, good_per_s=counts["good"] / wall,
                  first_per_s=first / counts.pop("first_s"), load=load)
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2000, help="good photos on the site")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=64, help="concurrency of every tool")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds, every tool")
    ap.add_argument("--img2dataset", default=os.environ.get("IMG2DATASET", DEFAULT_IMG2DATASET),
                    help="img2dataset executable (in its own venv); env IMG2DATASET")
    ap.add_argument("--img2dataset-processes", type=int, default=1)
    ap.add_argument("--retries", type=int, nargs="+", default=[0, 1],
                    help="mlimages is run once per value; 0 is the row the bars use (the "
                         "baselines retry nothing: naive cannot, img2dataset gets --retries 0)")
    ap.add_argument("--only", action="append", help="run only tools whose name contains this")
    ap.add_argument("--data", default="bench-data/gather", help="cache of generated images")
    ap.add_argument("--workdir", default=None,
                    help="where every tool's output folder goes (default: the system's "
                         "temporary folder); each tool creates a file per image there, and on "
                         "ext4 that costs 0.05-0.9 ms depending on recent deletions nearby "
                         "(benchmarks/RESULTS.md), so a tmpfs (/dev/shm) gives steadier figures")
    args = ap.parse_args(argv)
    if not Path(args.img2dataset).exists():
        print(f"img2dataset not found at {args.img2dataset}: set IMG2DATASET or pass "
              f"--img2dataset (pip install img2dataset==1.47 in its own venv); skipping it")
        args.img2dataset = None
    # Bytecode for the package, as a regular pip install writes it (img2dataset's venv has
    # it): an editable install has none, and with PYTHONDONTWRITEBYTECODE set every run would
    # compile mlimages again before its first request.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "mlimages")],
                   check=True)
    data = Path(args.data)
    routes = make_data(data, args.images)
    expected_good = args.images + sum(MIX[k] for k in GOOD_KINDS if k in MIX)
    print(f"{len(routes)} URLs: {args.images} photos + {sum(MIX.values())} others "
          f"({', '.join(f'{k} {v}' for k, v in MIX.items())}); {expected_good} end as photos "
          f"(+{MIX['big']} over a 2 MB cap); {LATENCY * 1000:.0f} ms latency; "
          f"concurrency {args.parallel}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-gather-", dir=args.workdir) as tmp:
        work = Path(tmp)
        print(f"creating a 60 KB file in {tmp}: {create_ms(work):.3f} ms (a fresh ext4 folder "
              "or a tmpfs: ~0.04; soon after many deletions nearby ext4 takes up to ~1 ms, and "
              "every tool's run slows with it: --workdir /dev/shm)", flush=True)
        commands = tool_commands(args, "{URLS}", "{OUT}")
        if args.only:
            commands = {k: v for k, v in commands.items()
                        if k == FLOOR or any(o in k for o in args.only)}
        for r in range(args.repeats):
            for k, (name, argv_) in enumerate(commands.items()):
                counts = run_once(name, argv_, routes, work, f"{r}-{k}", args.images)
                results.setdefault(name, []).append(counts)
                if name == FLOOR:
                    print(f"  run {r + 1} {name:<30} {counts['wall_s']:6.2f} s  (requests "
                          f"only; load {counts['load']:.1f})", flush=True)
                    continue
                print(f"  run {r + 1} {name:<30} {counts['wall_s']:6.2f} s  "
                      f"{counts['good_per_s']:6.1f} good/s ({counts['first_per_s']:6.1f} until "
                      f"the {args.images}th)  kept {counts['files']} files: "
                      f"{counts['good']} good, {counts['broken']} broken, "
                      f"{counts['placeholder']} placeholders  (load {counts['load']:.1f})",
                      flush=True)
    report(results, args.images)


def report(results, first):
    """Medians per tool, then mlimages' ratios to each baseline, round by round.

    ``good/s`` (the bars' figure) counts the whole run, the timeouts of the hanging URLs
    included; ``to Nth/s`` counts the good images kept until the ``first``-th, which leaves
    that fixed tail out for every tool (what a list of millions of URLs would see).
    """
    med = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
           for name, runs in results.items()}
    print(f"\nmedians of {len(next(iter(results.values())))} runs")
    until = f"to {first}th/s"
    print(f"{'tool':<30} {'wall s':>7} {'URLs/s':>7} {'good/s':>7} {until:>11} {'files':>6}"
          f" {'good':>6} {'broken':>6} {'placeh.':>7}")
    for name, m in med.items():
        if name == FLOOR:
            print(f"{name:<30} {m['wall_s']:7.2f} {m['urls_per_s']:7.1f}")
            continue
        print(f"{name:<30} {m['wall_s']:7.2f} {m['urls_per_s']:7.1f} {m['good_per_s']:7.1f} "
              f"{m['first_per_s']:11.1f} {m['files']:6.0f} {m['good']:6.0f} {m['broken']:6.0f} "
              f"{m['placeholder']:7.0f}")
    ours = results.get("mlimages gather")
    if not ours:
        return
    floor, img2dataset = results.get(FLOOR), results.get("img2dataset 1.47")
    if floor and img2dataset:
        # gather's good images in the floor's wall time: the best ratio any client could show
        best = [a["good"] / f["wall_s"] / b["good_per_s"]
                for a, f, b in zip(ours, floor, img2dataset)]
        print(f"ceiling: gather's good images in the floor's time / img2dataset 1.47: "
              f"x{statistics.median(best):.2f} (per run {', '.join(f'{x:.2f}' for x in best)}); "
              f"the floor ends {med[FLOOR]['wall_s']:.2f} s after its launch")
    for base in ("naive requests pool", "requests pool + verify_image", "img2dataset 1.47"):
        if base not in results:
            continue
        for key, what in (("good_per_s", "good images/s"),
                          ("first_per_s", f"good images/s until the {first}th (no timeout tail)")):
            ratios = [a[key] / b[key] for a, b in zip(ours, results[base])]
            print(f"mlimages / {base}: {what} x{statistics.median(ratios):.2f} "
                  f"(median of per-run ratios {', '.join(f'{x:.2f}' for x in ratios)})")


if __name__ == "__main__":
    main()
