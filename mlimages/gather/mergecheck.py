"""The checks a merge makes before it copies or moves anything, and ``--limit`` across shards.

See :mod:`mlimages.gather.merge` for the merge itself.  Every check raises a
:class:`~mlimages.gather.records.GatherError` that names a few of the culprits and what to do.
"""

import os
import stat
from collections import defaultdict
from pathlib import Path

from mlimages.gather.names import inside
from mlimages.gather.outdir import record_key
from mlimages.gather.records import GatherError
from mlimages.gather.sources import open_source

EXAMPLES = 5  # problems named in an error message


def check_disjoint(shards, per_shard):
    owner, twice = {}, []
    for i, records in enumerate(per_shard):
        for key in records:
            first = owner.setdefault(key, i)
            if first != i:
                twice.append(f"{key[1]} ({shards[first]} and {shards[i]})")
    if twice:
        raise GatherError(f"{len(twice)} URLs were gathered by two shards, e.g. "
                          f"{'; '.join(twice[:EXAMPLES])}: give each shard folder once, all "
                          f"from runs with the same --shard N")


def expected_keys(source):
    if source.shard is not None:
        raise GatherError("--merge compares the shards with the whole list: leave out --shard")
    return {(item.label, item.url) for item in open_source(source)}


def check_complete(expected, per_shard):
    done = set().union(*per_shard)
    missed = sorted(expected - done, key=lambda k: k[1])
    if missed:
        raise GatherError(f"{len(missed)} URLs of the list are in no shard's manifest, e.g. "
                          f"{', '.join(url for _, url in missed[:EXAMPLES])}: run (or resume) "
                          "the shard that should hold them before merging")


def check_kept_files(shards, per_shard):
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
            f"{'; '.join(problems[:EXAMPLES])}; nothing was copied or moved. Put each back "
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


def check_outside_shards(shards, out, per_shard):
    """A kept image must not land in a shard folder that lies under ``out`` (``mpiexec ...
    --distributed`` keeps its shards in ``OUT/shards/``): a label named like that folder."""
    out = Path(out).absolute()
    tops = set()
    for shard in shards:
        shard = Path(shard).absolute()
        if shard.is_relative_to(out) and shard != out:
            tops.add(shard.relative_to(out).parts[0])
    clash = sorted({rec.label for records in per_shard for rec in records.values()
                    if rec.label.split("/")[0] in tops})
    if clash:
        raise GatherError(f"labels {', '.join(clash[:EXAMPLES])} would put images in the shard "
                          f"folders under {out} ({', '.join(sorted(tops))}/): gather into another "
                          "--out, or give those labels other names")


def trim_to_limit(per_shard, limit):
    """``--limit`` for the merged folder: at most ``limit`` kept images per label.

    Shards keep their images independently, so together they can hold more of one label than
    the job's limit (ranks that stopped at the same moment).  The merge keeps, per label, the
    ``limit`` images whose (label, URL) hash (:func:`~mlimages.gather.outdir.record_key`) is
    smallest: the same choice whatever the number of shards or the order the images arrived
    in.  The others get the status ``over_limit`` and no path (their files stay in the shards).

    Args:
        per_shard (list of dict): {(label, url): Record} per shard, changed in place.
        limit (int or None): images per label; None keeps every image.

    Returns:
        int: how many records became ``over_limit``.
    """
    if not limit:
        return 0
    kept = defaultdict(list)
    for records in per_shard:
        for rec in records.values():
            if rec.status == "ok":
                kept[rec.label].append(rec)
    trimmed = 0
    for label, recs in kept.items():
        recs.sort(key=lambda r: record_key(r.label, r.url))
        for rec in recs[limit:]:
            rec.status, rec.path = "over_limit", None
            rec.reason = f"the shards kept more than --limit {limit} of {label or 'the top'}"
            trimmed += 1
    return trimmed
