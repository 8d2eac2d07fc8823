"""``mlimages audit``: duplicates, leaks across splits and classes, low-quality images, and
one report.

::

    OUT/
      audit.json       everything found (options, counts, groups, leaks, flags, unreadable)
      duplicates.csv   group,path,split,class,match,distance
      flags.csv        path,split,class,flag,value,threshold
      report.html      one page, no script, no network; thumbnails in OUT/thumbs/

Modules: ``options`` (AuditOptions, the thresholds, AuditError), ``inputs`` (trees and lists
-> items), ``scan`` (one decode per image on a process pool), ``hashes`` (dhash, pixel hash,
quality numbers), ``near`` (the banded near-duplicate search), ``groups`` (duplicate groups),
``flags`` (quality flags, leaks), ``report`` (JSON, CSV, summary), ``page`` (report.html).
"""

import dataclasses
from collections import Counter
from pathlib import Path

from mlimages._fs import blocking_file
from mlimages.audit import page, report
from mlimages.audit.flags import leaks, quality_flags
from mlimages.audit.groups import find_groups
from mlimages.audit.inputs import collect
from mlimages.audit.options import AuditError, AuditOptions
from mlimages.audit.scan import scan_files

__all__ = ["AuditError", "AuditOptions", "AuditResult", "audit"]

@dataclasses.dataclass
class AuditResult:
    """What :func:`audit` found: per image (same order) its item and scan, then the groups
    (``groups.find_groups``), leaks and flags (``flags``), gather's status counts."""

    options: AuditOptions
    items: list
    scanned: list
    groups: list
    leaks: list
    flags: list
    manifest_status: dict = dataclasses.field(default_factory=dict)
    written: list = dataclasses.field(default_factory=list)


def _find_manifest(sources, opts):
    """--manifest, else gather's manifest in a tree given or in its parent, else None."""
    from mlimages.gather.outdir import MANIFEST   # here: the CLI's parser needs no gather
    if opts.manifest:
        return Path(opts.manifest)
    for source in map(Path, sources):
        for folder in (source, source.parent) if source.is_dir() else ():
            if (folder / MANIFEST).is_file():
                return folder / MANIFEST
    return None


def manifest_status(path):
    """{status: URLs} of gather's manifest at ``path``, read by gather's own line parser: the
    last line of a (label, URL) counts; a line gather cannot read is skipped, as gather does."""
    from mlimages.gather.outdir import parse_line
    last = {}
    with open(path, "rb") as f:
        for raw in f:
            record = parse_line(raw)
            if record is not None:
                last[(record.label, record.url)] = record.status
    return dict(Counter(last.values()))


def check_out(out):
    """Raise AuditError unless ``out`` is a folder or can be made one."""
    if blocking_file(out) is not None:
        raise AuditError(f"--out {out}: {blocking_file(out)} is not a folder; give a folder "
                         "(created if missing)")


def run_audit(sources, opts=None, progress=True):
    """Scan the images of ``sources`` (trees, list files) and find groups, leaks and flags.

    Returns:
        AuditResult (nothing written yet).
    """
    opts = opts or AuditOptions()
    opts.check()
    items = collect(sources, opts.root)
    scanned = scan_files([i.path for i in items], opts.workers, progress)
    groups = find_groups(scanned, opts.near, mirrored=not opts.ignore_mirrored)
    manifest = _find_manifest(sources, opts)
    return AuditResult(opts, items, scanned, groups, leaks(groups, items),
                       quality_flags(scanned, opts),
                       manifest_status(manifest) if manifest else {})


def audit(sources, out, opts=None, progress=True):
    """:func:`run_audit`, then write every file of the report into ``out`` (the CLI's call).

    Returns:
        AuditResult, ``written`` filled.
    """
    out = Path(out)
    check_out(out)
    result = run_audit(sources, opts, progress)
    out.mkdir(parents=True, exist_ok=True)
    result.written = report.write_data(result, out)
    result.written.append(page.write_html(result, out, report.summary(result)))
    return result
