"""``mlimages gather --merge``: the output folders of N ``--shard K/N`` runs -> one folder.

Each shard folder (see ``outdir.py``) is read through its manifest: the last line per
(label, URL) is its outcome there.  The merged folder gets every shard's kept images (copied,
or moved with ``move=True``) under the same relative paths, one manifest line per (label, URL)
and a summary recomputed from the merged manifest.  Two checks make a bad merge an error
instead of a quietly wrong data set:

* a (label, URL) settled in two shards (the same shard given twice, or runs with different N);
* a URL of the original list that no shard settled (a shard not run, or interrupted), when the
  list is given.
"""

import dataclasses
import datetime
import json
import posixpath
import shutil
from collections import Counter
from pathlib import Path

from mlimages.gather.names import NameRegistry, inside
from mlimages.gather.outdir import MANIFEST, OutDir
from mlimages.gather.records import GatherError, Record
from mlimages.gather.sources import open_source

_EXAMPLES = 5  # problems named in an error message


@dataclasses.dataclass
class MergeResult:
    """What a merge did; ``summary`` is what ``OUT/summary.json`` holds."""

    summary: dict
    manifest: Path
    summary_path: Path


def merge_shards(shards, out, source=None, move=False):
    """Merge the folders of sharded gather runs into ``out``.

    Args:
        shards (list of str or Path): the ``--out`` folders of the shard runs.
        out (str or Path): the merged folder (created; must hold no manifest yet).
        source (SourceOptions or None): the original list (without ``shard``); when given,
            every (label, URL) it yields must be settled by exactly one shard.
        move (bool): move the images instead of copying them (the shards are left without
            them; their manifests stay).

    Returns:
        MergeResult: also saved as ``out/summary.json``.

    Raises:
        GatherError: a missing shard folder or manifest, a URL in two shards, a URL of the list
            that no shard settled, ``out`` already holding a manifest.
    """
    shards = [Path(s) for s in shards]
    if not shards:
        raise GatherError("--merge needs at least one shard folder")
    out = Path(out)
    per_shard = [_read_shard(s) for s in shards]
    _check_disjoint(shards, per_shard)
    expected = _expected(source) if source is not None else None
    if expected is not None:
        _check_complete(expected, per_shard)
    if (out / MANIFEST).exists() and (out / MANIFEST).stat().st_size:
        raise GatherError(f"{out / MANIFEST} exists: merge into a new, empty folder")
    started = datetime.datetime.now(datetime.timezone.utc)
    names = NameRegistry()
    with OutDir(out) as outdir:
        for shard, records in zip(shards, per_shard):
            for rec in records.values():
                if rec.status == "ok" and rec.path:
                    rec.path = _place(shard, rec, outdir, names, move)
                outdir.append(rec)
        summary = _summary(shards, per_shard, outdir, started, expected)
        outdir.write_summary(summary)
    return MergeResult(summary, outdir.manifest, outdir.summary)


def _read_shard(folder):
    """{(label, url): Record} from a shard's manifest, the last line per key winning."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise GatherError(f"{folder}: no {MANIFEST}; give the --out folder of a gather run")
    records = {}
    fields = {f.name for f in dataclasses.fields(Record)}
    with open(manifest, "rb") as f:
        for raw in f:
            try:
                rec = Record(**{k: v for k, v in json.loads(raw).items() if k in fields})
            except (ValueError, TypeError):
                continue  # a line cut by a crash: gather drops it too
            records[(rec.label, rec.url)] = rec
    return records


def _check_disjoint(shards, per_shard):
    owner, twice = {}, []
    for i, records in enumerate(per_shard):
        for key in records:
            first = owner.setdefault(key, i)
            if first != i:
                twice.append(f"{key[1]} ({shards[first]} and {shards[i]})")
    if twice:
        raise GatherError(f"{len(twice)} URLs were gathered by two shards, e.g. "
                          f"{'; '.join(twice[:_EXAMPLES])}: give each shard folder once, all "
                          f"from runs with the same --shard N")


def _expected(source):
    if source.shard is not None:
        raise GatherError("--merge compares the shards with the whole list: leave out --shard")
    return {(item.label, item.url) for item in open_source(source)}


def _check_complete(expected, per_shard):
    done = set().union(*per_shard)
    missed = sorted(expected - done, key=lambda k: k[1])
    if missed:
        raise GatherError(f"{len(missed)} URLs of the list are in no shard's manifest, e.g. "
                          f"{', '.join(url for _, url in missed[:_EXAMPLES])}: run (or resume) "
                          "the shard that should hold them before merging")


def _place(shard, rec, outdir, names, move):
    """Copy (or move) a kept image into the merged folder; returns its relative path there.

    Shards name their files independently, so two can pick the same name for different URLs:
    the second one then gets the URL's hash appended, as within one run."""
    src = shard / rec.path
    if not inside(shard, rec.path) or not src.is_file():
        raise GatherError(f"{shard / rec.path}: the manifest keeps it but the file is missing; "
                          "resume that shard's gather run before merging")
    folder, name = posixpath.split(rec.path)
    stem, ext = posixpath.splitext(name)
    path = names.claim(folder, stem, ext, rec.url)
    staged = outdir.stage(b"")
    if move:
        shutil.move(src, staged)
    else:
        shutil.copyfile(src, staged)
    outdir.commit(staged, path)
    return path


def _summary(shards, per_shard, outdir, started, expected):
    totals = Counter(rec.status for records in per_shard for rec in records.values())
    return {
        "version": 1,
        "source": "merge of " + ", ".join(str(s) for s in shards),
        "out": str(outdir.root),
        "started": started.isoformat(timespec="seconds"),
        "completed": True,
        "shards": [{"folder": str(s), "urls": len(r),
                    "ok": sum(rec.status == "ok" for rec in r.values())}
                   for s, r in zip(shards, per_shard)],
        "checked_against_list": expected is not None,
        "manifest": {"urls": sum(totals.values()), "by_status": dict(sorted(totals.items())),
                     "unreadable_lines": 0},
    }


def merge_table(result):
    """The report the CLI prints: URLs and kept images per shard, counts by status."""
    s = result.summary
    lines = [f"{'shard':<40} {'urls':>7} {'ok':>7}"]
    for shard in s["shards"]:
        lines.append(f"{shard['folder'][-40:]:<40} {shard['urls']:>7} {shard['ok']:>7}")
    lines.append(f"{'merged':<40} {s['manifest']['urls']:>7} "
                 f"{s['manifest']['by_status'].get('ok', 0):>7}")
    for status, n in s["manifest"]["by_status"].items():
        lines.append(f"  {status:<20} {n:>7}")
    lines.append("checked: no URL in two shards" + (
        ", none of the list missing" if s["checked_against_list"]
        else " (give the list, e.g. --urls, to check that none is missing)"))
    return "\n".join(lines)
