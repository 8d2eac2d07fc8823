"""The audit's files (``audit.json``, ``duplicates.csv``, ``flags.csv``) and printed summary.

``duplicates.csv``: ``group,path,split,class,match,distance`` — one row per image of a
group, the kept image (``match`` = ``kept``) first; ``distance`` in dhash bits from it.
``flags.csv``: ``path,split,class,flag,value,threshold``. ``audit.json`` holds all of it plus
the options, the counts, the leaks and the unreadable files.
"""

import csv
import dataclasses
import io
import json
from collections import Counter

from mlimages._fs import atomic_write_text
from mlimages.audit.options import FLAGS


def _csv(header, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def duplicate_rows(result):
    """Rows of duplicates.csv (without the header)."""
    return [(g, result.items[m.index].path, result.items[m.index].split,
             result.items[m.index].cls, m.match, m.distance)
            for g, members in enumerate(result.groups) for m in members]


def flag_rows(result):
    """Rows of flags.csv (without the header)."""
    return [(result.items[f.index].path, result.items[f.index].split,
             result.items[f.index].cls, f.name, f.value, f.threshold) for f in result.flags]


def class_counts(result):
    """{class: {split: images}} of every item ("" for items without a split)."""
    counts = {}
    for item in result.items:
        row = counts.setdefault(item.cls, Counter())
        row[item.split] += 1
    return {c: dict(counts[c]) for c in sorted(counts)}


def as_json(result):
    """Everything the audit found, as one JSON-ready dict."""
    items = result.items
    return {
        "options": dataclasses.asdict(result.options),
        "images": len(items),
        "unreadable": [{"path": items[k].path, "reason": s.error}
                       for k, s in enumerate(result.scanned) if s.error],
        "classes": class_counts(result),
        "manifest_status": result.manifest_status,
        "groups": [[{"path": items[m.index].path, "split": items[m.index].split,
                     "class": items[m.index].cls, "match": m.match, "distance": m.distance}
                    for m in members] for members in result.groups],
        "leaks": [leak._asdict() for leak in result.leaks],
        "flag_meanings": FLAGS,
        "flags": [{"path": items[f.index].path, "flag": f.name, "value": f.value,
                   "threshold": f.threshold} for f in result.flags],
    }


def write_data(result, out):
    """Write audit.json, duplicates.csv and flags.csv into ``out``; returns their paths."""
    return [atomic_write_text(out / "audit.json", json.dumps(as_json(result), indent=1) + "\n"),
            atomic_write_text(out / "duplicates.csv", _csv(
                ("group", "path", "split", "class", "match", "distance"),
                duplicate_rows(result))),
            atomic_write_text(out / "flags.csv", _csv(
                ("path", "split", "class", "flag", "value", "threshold"), flag_rows(result)))]


def summary(result):
    """The printed lines: images, duplicate groups, leaks, flags by name, unreadable files."""
    dup_images = sum(len(g) for g in result.groups)
    by_flag = Counter(f.name for f in result.flags)
    unreadable = sum(1 for s in result.scanned if s.error)
    lines = [f"audited {len(result.items)} images in {len(class_counts(result))} classes",
             f"duplicate groups: {len(result.groups)} ({dup_images} images; near = "
             f"{result.options.near} dhash bits)",
             f"leaks: {len(result.leaks)} groups straddle splits or classes"]
    for leak in result.leaks[:10]:
        paths = ", ".join(result.items[m.index].path for m in result.groups[leak.group])
        lines.append(f"  group {leak.group}: splits {'/'.join(leak.splits) or '-'}, classes "
                     f"{'/'.join(leak.classes)}: {paths}")
    if len(result.leaks) > 10:
        lines.append(f"  ... {len(result.leaks) - 10} more in audit.json")
    lines.append("flags: " + (", ".join(f"{n} {by_flag[n]}" for n in FLAGS if by_flag[n])
                              or "none"))
    if unreadable:
        lines.append(f"unreadable: {unreadable} (listed in audit.json)")
    return "\n".join(lines)
