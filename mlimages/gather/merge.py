"""``mlimages gather --merge``: the output folders of N ``--shard K/N`` runs -> one folder.

Each shard folder (see ``outdir.py``) is read through its manifest: the last line per
(label, URL) is its outcome there.  The merged folder gets every shard's kept images (copied,
hard-linked with ``link=True``, or moved with ``move=True``) under the same relative paths, one
manifest line per (label, URL) and a summary recomputed from the merged manifest.  The checks
(``mergecheck.py``) make a bad merge an error instead of a quietly wrong data set, all before
any file is copied or moved:

* a (label, URL) settled in two shards (the same shard given twice, or runs with different N);
* a URL of the original list that no shard settled (a shard not run, or interrupted), when the
  list is given;
* a kept image missing from its shard, or not a regular file reached without links;
* a label that would put images into a shard folder lying under the merged folder.

With ``limit``, at most that many images per label are merged (``mergecheck.trim_to_limit``
says which: the rule does not depend on the number of shards).

A move is all or nothing: each image is hard-linked (or copied) into the merged folder, the
merged manifest is written once every image is in place, and only then are the shards' images
removed; an error or an interrupt before that leaves every shard as it was.  ``again=True``
merges again into a folder a merge wrote before (``mpiexec ... gather --distributed`` run
again): the new manifest replaces the old one in one rename once every image is in place,
then the images only the old one listed are removed.
"""

import dataclasses
import datetime
import os
import posixpath
from collections import Counter
from pathlib import Path

from mlimages.gather import mergecheck
from mlimages.gather.names import NameRegistry, check_out, inside
from mlimages.gather.outdir import MANIFEST, OutDir, parse_line
from mlimages.gather.records import GatherError


@dataclasses.dataclass
class MergeResult:
    """What a merge did; ``summary`` is what ``OUT/summary.json`` holds."""

    summary: dict
    manifest: Path
    summary_path: Path


def merge_shards(shards, out, source=None, move=False, *, link=False, again=False, limit=None):
    """Merge the folders of sharded gather runs into ``out``.

    Args:
        shards (list of str or Path): the ``--out`` folders of the shard runs.
        out (str or Path): the merged folder (created; no manifest in it, unless ``again``).
        source (SourceOptions or None): the original list (without ``shard``); when given,
            every (label, URL) it yields must be settled by exactly one shard.
        move (bool): move the images (the shards' manifests stay); all or nothing.
        link (bool): hard-link the images where possible (else copy); the shards keep theirs.
        again (bool): ``out`` may hold the manifest of an earlier merge: it is replaced.
        limit (int or None): at most this many kept images per label (``--limit``).

    Returns:
        MergeResult: also saved as ``out/summary.json``.

    Raises:
        GatherError: a missing shard folder or manifest, a URL in two shards, a URL of the list
            that no shard settled, a kept image missing or a link, ``out`` not a folder or
            already holding a manifest, an image that cannot be written.
    """
    shards = [Path(s) for s in shards]
    if not shards:
        raise GatherError("--merge needs at least one shard folder")
    out = Path(out)
    check_out(out)
    per_shard, expected, trimmed = _checked(shards, out, source, limit)
    old = _earlier_merge(out, again)
    started = datetime.datetime.now(datetime.timezone.utc)
    with OutDir(out) as outdir:
        placed = _place_all(shards, per_shard, outdir, link=move or link)
        records = (rec for records in per_shard for rec in records.values())
        if again:  # every image is in place: now the manifest
            outdir.rewrite(records)
        else:
            for rec in records:
                outdir.append(rec)
        summary = _summary(shards, per_shard, outdir, started, expected) | {"over_limit": trimmed}
        outdir.write_summary(summary)
    if move:
        _remove(placed, out)
    if old:
        _remove_stale(old, {dest for _, dest in placed}, out)
    return MergeResult(summary, outdir.manifest, outdir.summary)


def _checked(shards, out, source, limit):
    """The shards' records, checked (``mergecheck``) and trimmed to ``limit``; the keys of the
    list (None without ``source``); how many records the limit trimmed."""
    per_shard = [_read_shard(s) for s in shards]
    mergecheck.check_disjoint(shards, per_shard)
    expected = mergecheck.expected_keys(source) if source is not None else None
    if expected is not None:
        mergecheck.check_complete(expected, per_shard)
    trimmed = mergecheck.trim_to_limit(per_shard, limit)
    mergecheck.check_outside_shards(shards, out, per_shard)
    mergecheck.check_kept_files(shards, per_shard)
    return per_shard, expected, trimmed


def _earlier_merge(out, again):
    """{(label, url): Record} of the merge ``out`` holds ({} if none); an error unless
    ``again``."""
    if not ((out / MANIFEST).exists() and (out / MANIFEST).stat().st_size):
        return {}
    if not again:
        raise GatherError(f"{out / MANIFEST} exists: merge into a new, empty folder")
    return _read_shard(out)


def _place_all(shards, per_shard, outdir, link):
    """Every kept image into the merged folder; returns [(source, destination)]."""
    names, placed = NameRegistry(), []
    for shard, records in zip(shards, per_shard):
        for rec in records.values():
            if rec.status == "ok" and rec.path:
                src = shard / rec.path
                rec.path = _place(src, rec, outdir, names, link)
                placed.append((src, outdir.root / rec.path))
    return placed


def _read_shard(folder):
    """{(label, url): Record} from a shard's manifest, the last line per key winning."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise GatherError(f"{folder}: no {MANIFEST}; give the --out folder of a gather run")
    records = {}
    with open(manifest, "rb") as f:
        for raw in f:
            rec = parse_line(raw)
            if rec is not None:  # None: a line cut by a crash, or mistyped: gather skips it too
                records[(rec.label, rec.url)] = rec
    return records


def _place(src, rec, outdir, names, link):
    """Copy (or, with ``link``, hard-link when possible) a kept image into the merged folder;
    returns its relative path there.

    Shards name their files independently, so two can pick the same name for different URLs:
    the second one then gets the URL's hash appended, as within one run."""
    folder, name = posixpath.split(rec.path)
    stem, ext = posixpath.splitext(name)
    path = names.claim(folder, stem, ext, rec.url)
    try:
        outdir.commit(outdir.stage_file(src, link=link), path)
    except OSError as e:
        raise GatherError(f"{outdir.root / path}: {e.strerror or e}; the shards are untouched: "
                          "fix that, then merge again") from None
    return path


def _remove(moved, out):
    """The end of a move: the merged folder is complete, remove the shards' images."""
    if not all(_same_file(src, dest) for src, dest in moved):
        os.sync()  # copies (no hard link was possible) reach the disk before their sources go
    failed = []
    for src, _ in moved:
        try:
            src.unlink(missing_ok=True)
        except OSError as e:
            failed.append(f"{src}: {e.strerror}")
    if failed:
        raise GatherError(f"merged into {out}, but {len(failed)} shard images could not be "
                          f"removed, e.g. {failed[0]}: remove them by hand")


def _remove_stale(old, kept, out):
    """After a merge ``again``: remove the images that only the earlier merge listed."""
    for rec in old.values():
        if rec.status == "ok" and rec.path and inside(out, rec.path) \
                and out / rec.path not in kept:
            try:
                os.unlink(out / rec.path)
            except FileNotFoundError:
                pass
            except OSError as e:
                raise GatherError(f"merged into {out}, but {out / rec.path}, an image of the "
                                  f"earlier merge, could not be removed: {e.strerror}") from None


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


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
