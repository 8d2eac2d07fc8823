"""``mlimages gather``: URL lists -> validated images in a class-per-folder tree + a manifest.

The package has one module per concern:

    sources.py   ImageNet URL lists (streamed), plain lists, CSV, the ImageNet text API
    imagenet.py  synset folders from words.txt / wordnet.is_a.txt or the API, --subset
    fetch.py     aiohttp GET with a total deadline, a byte cap, retries for transient failures
    placeholders.py  placeholder rules (known_placeholders.txt, --placeholder): redirect URL, SHA1, dhash
    validate.py  full decode (mlimages.image.verify_image), --min-size, the SHA1/dhash checks
    workers.py   the processes that run validate.py, fed over pipes by the event loop
    names.py     safe file and folder names (nothing can leave --out)
    outdir.py    the output folder: lock, manifest.jsonl, summary.json, atomic image files
    merge.py     --merge: the output folders of shards -> one (no URL twice or missing)
    mergecheck.py  the merge's checks; --limit across shards
    distributed.py  mpiexec -n N ... --distributed: a shard per rank, merged by rank 0
    relay.py     the ranks' progress and kept counts, to rank 0 and back
    ship.py      --work: node-local shards copied to rank 0 over MPI
    run.py       the asyncio loop that ties them together
    records.py   Item, Record, the statuses, GatherError

Typical use::

    from mlimages.gather import GatherOptions, SourceOptions, gather
    result = gather(SourceOptions(urls="fall11_urls.txt", wnid=("n02121808",),
                                  words="words.txt"), "data/images", GatherOptions(limit=500))
    print(summary_table(result))
"""

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime
import gc
import os
import time
from pathlib import Path

from mlimages.gather.options import GatherOptions
from mlimages.gather.outdir import OutDir
from mlimages.gather.records import STATUSES, GatherError, Item, Record, is_transient
from mlimages.gather.sources import SourceOptions, open_source
from mlimages.gather.placeholders import load_placeholders

__all__ = ["GatherError", "GatherOptions", "GatherResult", "Item", "Record", "STATUSES",
           "SourceOptions", "gather", "is_transient", "summary_table"]

# Allocations between two collections of the youngest generation while the event loop runs
# (CPython's default: 700). The loop makes and drops a few hundred small containers per request
# (aiohttp's request and response objects, futures, records); at 700 the collector ran some
# 60 times per 1,000 URLs, and once over every imported module, each time stalling the
# requests in flight (benchmarks/RESULTS.md, 2026-12-03, 11:42).
GC_THRESHOLD = 10_000


@dataclasses.dataclass
class GatherResult:
    """What a run did; ``summary`` is what ``summary.json`` holds."""

    summary: dict
    manifest: Path
    summary_path: Path


def gather(source, out, opts=None, progress=False, peers=None):
    """Download the URLs of ``source`` into ``out``, keeping only images that decode.

    Args:
        source (SourceOptions): where the URLs come from.
        out (str or Path): the output folder (created; see ``outdir.py`` for its layout).
        opts (GatherOptions): download and validation settings.
        progress (bool): show a tqdm bar (ok, failed, images/s).
        peers: the other ranks of ``mpiexec ... --distributed`` (:mod:`~mlimages.gather.relay`),
            or None.

    Returns:
        GatherResult: also saved as ``out/summary.json``.

    Raises:
        GatherError: bad options or list, a folder held by another run, an API that fails.
    """
    opts = opts or GatherOptions()
    placeholders = load_placeholders(opts.placeholder)
    spec = None
    if opts.resize is not None:
        # Imported here: without --resize, the event loop's process needs no image library
        # (importing NumPy and Pillow would delay the first request).
        from mlimages.image import ImageSpec
        spec = ImageSpec(size=opts.resize, resize=opts.resize_mode)
    src = open_source(source, opts)
    started, clock = datetime.datetime.now(datetime.timezone.utc), time.monotonic()
    with OutDir(out) as outdir:
        past = outdir.load()
        # Imported here: the decode processes import this package and need neither module.
        from mlimages.gather.workers import Validators, settings_for

        # Started first, so that their imports overlap ours (aiohttp) and the first requests.
        validators = Validators(opts.decode_workers or default_decode_workers(),
                                settings_for(opts))
        from mlimages.gather.run import Run

        run = Run(src, outdir, past, opts, placeholders, spec, validators, progress, peers)
        completed = False
        try:
            with _rarer_collections():
                _run_loop(run.main())
            completed = True
        finally:
            validators.kill()
            summary = _summary(run, src, outdir, started, time.monotonic() - clock, completed)
            outdir.write_summary(summary)
    return GatherResult(summary, outdir.manifest, outdir.summary)


def default_decode_workers():
    """One decoding process per core, less the core the event loop keeps busy (at least 1).

    One worker against two on two cores, measured: benchmarks/RESULTS.md.
    """
    return max(1, (os.cpu_count() or 2) - 1)


@contextlib.contextmanager
def _rarer_collections():
    """Within the block the cyclic garbage collector leaves alone what exists at entry (frozen:
    the modules, the run's settings, the resumed manifest) and collects the youngest generation
    every ``GC_THRESHOLD`` allocations; the collector's settings are put back at exit. A
    collector switched off, set rarer still, or with objects frozen by the caller, is kept so.
    """
    threshold = gc.get_threshold()
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    if threshold[0] and threshold[0] < GC_THRESHOLD:
        gc.set_threshold(GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if freeze:
            gc.unfreeze()


def _run_loop(coro):
    """asyncio.run, also from a thread that already runs a loop (a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _summary(run, src, outdir, started, elapsed, completed):
    ok = run.counts["ok"]
    totals = {}
    for status in run.past.status.values():
        totals[status] = totals.get(status, 0) + 1
    return {
        "version": 1,
        "source": src.description,
        "out": str(outdir.root),
        "started": started.isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 3),
        "completed": completed,
        "this_run": {
            "attempted": sum(run.counts.values()),
            "by_status": dict(sorted(run.counts.items())),
            "ok": ok,
            "bytes": run.kept_bytes,
            "images_per_s": round(ok / elapsed, 2) if elapsed > 0 else 0.0,
        },
        "skipped": {k: run.skipped[k] for k in ("settled", "repeated", "limit")}
        | {"other_shard": src.stats.other_shard},
        "source_lines": src.stats.lines,
        "bad_lines": src.stats.bad_lines,
        "bad_line_examples": src.stats.bad_examples,
        "manifest": {"urls": len(run.past.status), "by_status": dict(sorted(totals.items())),
                     "unreadable_lines": run.past.bad_lines},
    }


def summary_table(result):
    """The report the CLI prints: counts by status, bytes, images/s."""
    s = result.summary
    this, whole = s["this_run"], s["manifest"]
    lines = [f"{'status':<20} {'this run':>9} {'manifest':>9}"]
    for status in sorted(set(this["by_status"]) | set(whole["by_status"]),
                         key=lambda k: (k != "ok", k)):
        lines.append(f"{status:<20} {this['by_status'].get(status, 0):>9} "
                     f"{whole['by_status'].get(status, 0):>9}")
    lines.append(f"{'total':<20} {this['attempted']:>9} {whole['urls']:>9}")
    lines.append(f"kept {this['ok']} images ({this['bytes'] / 1e6:.1f} MB) in "
                 f"{s['elapsed_s']:.1f} s: {this['images_per_s']:.1f} images/s")
    skipped = {k: v for k, v in s["skipped"].items() if v}
    if skipped:
        lines.append("not fetched: " + ", ".join(f"{v} {k}" for k, v in skipped.items()))
    if s["bad_lines"]:
        lines.append(f"{s['bad_lines']} list lines could not be read, e.g. "
                     f"{s['bad_line_examples'][0]}")
    if not s["completed"]:
        lines.append("interrupted: run the same command again to resume")
    return "\n".join(lines)
