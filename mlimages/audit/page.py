"""``report.html``: one self-contained page (inline CSS, no script, nothing fetched) and the
thumbnails it shows, in ``thumbs/`` beside it.

Sections: the counts per class and split (and the imbalance), gather's manifest statuses,
the mean image, the leaking groups, the other duplicate groups, the flagged images by flag.
At most ``SHOWN`` groups and ``SHOWN`` images per flag are drawn; the CSVs hold them all.
"""

import html
import os
import shutil

from mlimages._fs import atomic_write_text
from mlimages.audit.options import FLAGS, THUMBS
from mlimages.audit.report import class_counts
from mlimages.image import ImageError, ImageSpec, open_image

SHOWN = 60
THUMB_SPEC = ImageSpec(size=96, resize="downscale")
CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
pre{white-space:pre-wrap;overflow-wrap:anywhere}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #e4e4e4}
th:first-child,td:first-child{text-align:left}.bar{background:#4a7fb5;height:10px;display:inline-block}
.row{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0;padding:8px;background:#fff;border:1px solid #ddd}
.leak{border-color:#c0392b;background:#fff5f4}figure{margin:0;width:112px;font-size:11px;overflow-wrap:anywhere}
figure img{width:96px;height:96px;object-fit:cover;display:block;border:1px solid #bbb}
.note{color:#666}.tag{font-weight:600;color:#c0392b}
"""


def _e(text):
    return html.escape(str(text))


def _short_names(result, indices):
    """{index: its path below the folder all audited images share} (for the captions)."""
    base = os.path.commonpath([os.path.dirname(os.path.abspath(i.path)) for i in result.items])
    return {k: os.path.relpath(os.path.abspath(result.items[k].path), base) for k in indices}


def write_thumbs(result, out, indices):
    """A 96x96 JPEG per index in ``out/THUMBS``; returns {index: (relative src or None,
    short path)}."""
    folder = out / THUMBS
    folder.mkdir(parents=True, exist_ok=True)
    src = dict.fromkeys(indices)
    for k in sorted(indices):
        try:
            open_image(result.items[k].path, THUMB_SPEC).save(folder / f"{k}.jpg", quality=85)
            src[k] = f"{THUMBS}/{k}.jpg"
        except (ImageError, OSError):
            continue
    names = _short_names(result, indices)
    return {k: (src[k], names[k]) for k in indices}


def _figure(src, k, caption):
    """Image ``k``'s thumbnail, ``caption`` (HTML) and its short path under it."""
    thumb, name = src[k]
    img = f'<img src="{_e(thumb)}" alt="">' if thumb else "<div>(no thumbnail)</div>"
    return (f"<figure>{img}<figcaption>{caption}<br><span class=note>{_e(name)}</span>"
            "</figcaption></figure>")


def _classes(result):
    counts = class_counts(result)
    order = ("train", "val", "test")
    splits = sorted({s for row in counts.values() for s in row},
                    key=lambda s: (order.index(s) if s in order else len(order), s))
    totals = {c: sum(row.values()) for c, row in counts.items()}
    top = max(totals.values())
    head = "".join(f"<th>{_e(s or 'no split')}</th>" for s in splits)
    rows = "".join(
        f"<tr><td>{_e(c)}</td>" + "".join(f"<td>{row.get(s, 0)}</td>" for s in splits)
        + f"<td>{totals[c]}</td><td><span class=bar style='width:{120 * totals[c] // top}px'>"
          f"</span></td></tr>" for c, row in counts.items())
    ratio = top / max(1, min(totals.values()))
    return (f"<h2>Classes</h2><table><tr><th>class</th>{head}<th>total</th><th></th></tr>"
            f"{rows}</table><p>imbalance (largest / smallest class): {ratio:.2f}</p>")


def _manifest(result):
    if not result.manifest_status:
        return ""
    rows = "".join(f"<tr><td>{_e(s)}</td><td>{n}</td></tr>"
                   for s, n in sorted(result.manifest_status.items(), key=lambda x: -x[1]))
    return f"<h2>gather's manifest</h2><table><tr><th>status</th><th>URLs</th></tr>{rows}</table>"


def _group_rows(result, src, groups, css):
    rows = []
    for g in groups[:SHOWN]:
        figures = "".join(_figure(src, m.index, f"{_e(result.items[m.index].split or '-')} / "
                                  f"{_e(result.items[m.index].cls)}<br>{m.match}"
                                  f"{'' if m.match == 'kept' else f' d={m.distance}'}")
                          for m in result.groups[g])
        rows.append(f"<div class='row {css}'><span class=tag>#{g}</span>{figures}</div>")
    more = len(groups) - SHOWN
    return "".join(rows) + (f"<p class=note>... {more} more in duplicates.csv</p>" if more > 0
                            else "")


def _duplicates(result, src):
    leaking = [leak.group for leak in result.leaks]
    others = [g for g in range(len(result.groups)) if g not in set(leaking)]
    return (f"<h2>Leaks: {len(leaking)} groups straddle splits or classes</h2>"
            + _group_rows(result, src, leaking, "leak")
            + f"<h2>Other duplicate groups: {len(others)}</h2>"
            + _group_rows(result, src, others, ""))


def _flags(result, src):
    parts = []
    for name, meaning in FLAGS.items():
        hits = [f for f in result.flags if f.name == name]
        if not hits:
            continue
        figures = "".join(_figure(src, f.index, f"{f.value} (limit {f.threshold})")
                          for f in hits[:SHOWN])
        parts.append(f"<h2>{_e(name)}: {len(hits)}</h2><p class=note>{_e(meaning)}</p>"
                     f"<div class=row>{figures}</div>")
    return "".join(parts) or "<h2>Flags</h2><p>none</p>"


def shown_indices(result):
    """The images the page draws: the members of the groups shown and the flagged shown."""
    leaking = [leak.group for leak in result.leaks]
    groups = leaking[:SHOWN] + [g for g in range(len(result.groups)) if g not in set(leaking)][:SHOWN]
    chosen = {m.index for g in groups for m in result.groups[g]}
    for name in FLAGS:
        chosen.update([f.index for f in result.flags if f.name == name][:SHOWN])
    return chosen


def write_html(result, out, summary_text):
    """Write ``out/report.html`` and its thumbnails; returns the page's path."""
    src = write_thumbs(result, out, shown_indices(result))
    mean = ""
    if result.options.mean:
        shutil.copyfile(result.options.mean, out / THUMBS / "mean.png")
        mean = (f"<h2>Mean image</h2><img src='{THUMBS}/mean.png' alt='mean image' "
                "style='width:192px;image-rendering:pixelated'>")
    page = (f"<!doctype html><html><head><meta charset=utf-8><title>mlimages audit</title>"
            f"<style>{CSS}</style></head><body><h1>mlimages audit</h1>"
            f"<pre>{_e(summary_text)}</pre>{_classes(result)}{_manifest(result)}{mean}"
            f"{_duplicates(result, src)}{_flags(result, src)}</body></html>\n")
    return atomic_write_text(out / "report.html", page)
