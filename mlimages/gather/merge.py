"""``mlimages gather --merge``: the output folders of N ``--shard K/N`` runs -> one folder.

Each shard folder (see ``outdir.py``) is read through its manifest: the last line per
(label, URL) is its outcome there.  The merged folder gets every shard's kept images (copied,
or moved with ``move=True``) under the same relative paths, one manifest line per (label, URL)
and a summary recomputed from the merged manifest.  Three checks make a bad merge an error
instead of a quietly wrong data set, all before any file is copied or moved:

* a (label, URL) settled in two shards (the same shard given twice, or runs with different N);
* a URL of the original list that no shard settled (a shard not run, or interrupted), when the
  list is given;
* a kept image missing from its shard, or not a regular file reached without links.

A move is all or nothing: each image is hard-linked (or copied) into the merged folder, the
merged manifest is written once every image is in place, and only then are the shards' images
removed; an error or an interrupt before that leaves every shard as it was.
"""

import dataclasses
import datetime
import os
import posixpath
import stat
from collections import Counter
from pathlib import Path

from mlimages.gather.names import NameRegistry, check_out, inside
from mlimages.gather.outdir import MANIFEST, OutDir, parse_line
from mlimages.gather.records import GatherError
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
            them, their manifests stay); all or nothing (see the module's docstring).

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
    per_shard = [_read_shard(s) for s in shards]
    _check_disjoint(shards, per_shard)
    expected = _expected(source) if source is not None else None
    if expected is not None:
        _check_complete(expected, per_shard)
    if (out / MANIFEST).exists() and (out / MANIFEST).stat().st_size:
        raise GatherError(f"{out / MANIFEST} exists: merge into a new, empty folder")
    _check_kept_files(shards, per_shard)
    started = datetime.datetime.now(datetime.timezone.utc)
    names, moved = NameRegistry(), []
    with OutDir(out) as outdir:
        for shard, records in zip(shards, per_shard):
            for rec in records.values():
                if rec.status == "ok" and rec.path:
                    src = shard / rec.path
                    rec.path = _place(src, rec, outdir, names, move)
                    moved.append((src, outdir.root / rec.path))
        for records in per_shard:  # every image is in place: now the manifest
            for rec in records.values():
                outdir.append(rec)
        summary = _summary(shards, per_shard, outdir, started, expected)
        outdir.write_summary(summary)
    if move:
        _remove(moved, out)
    return MergeResult(summary, outdir.manifest, outdir.summary)


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


def _check_kept_files(shards, per_shard):
    """Every image the shards keep must be a regular file inside its shard, reached without
    links: checked for all of them before the first one is copied or moved."""
    problems = []
    for shard, records in zip(shards, per_shard):
        real = os.path.realpath(shard)
        for rec in records.values():
            if rec.status == "ok" and rec.path:
                problem = _kept_file_problem(shard, real, rec.path)
                if problem:
                    problems.append(f"{shard / rec.path} ({problem})")
    if problems:
        raise GatherError(
            f"{len(problems)} images that the shard manifests keep cannot be merged: "
            f"{'; '.join(problems[:_EXAMPLES])}; nothing was copied or moved. Put each back "
            "as a regular file, or delete its URL's lines from its shard's manifest.jsonl and "
            "run that shard's gather again (it fetches the URL again); then merge again")


def _kept_file_problem(shard, real_shard, relpath):
    """Why ``shard/relpath`` cannot be merged, or "" if it can."""
    if not inside(shard, relpath):
        return "outside its shard folder"
    src = shard / relpath
    try:
        info = os.lstat(src)
    except FileNotFoundError:
        return "the file is missing"
    except OSError as e:
        return e.strerror
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if not inside(real_shard, os.path.relpath(os.path.realpath(src), real_shard)):
        return "reached through a symbolic link"
    return ""


def _place(src, rec, outdir, names, move):
    """Copy (or, to move, hard-link when possible) a kept image into the merged folder;
    returns its relative path there.

    Shards name their files independently, so two can pick the same name for different URLs:
    the second one then gets the URL's hash appended, as within one run."""
    folder, name = posixpath.split(rec.path)
    stem, ext = posixpath.splitext(name)
    path = names.claim(folder, stem, ext, rec.url)
    try:
        outdir.commit(outdir.stage_file(src, link=move), path)
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
