"""The demo's task: generated photos of each pattern class, served behind an ImageNet-style list.

::

    folder/
      served/n99990001/0000.jpg ...   the photos a Site serves (one folder per synset)
      (a few of them are planted duplicates of others: DUPLICATES)
      holdout/stripes_0024.jpg ...    photos kept back for ``mlimages predict``
      urls.txt                        ``wnid_i<TAB>url``: the photos and the planted broken links
      words.txt  wordnet.is_a.txt     the synsets' names and their parent, PARENT
"""

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from mlimages.demo import synth
from mlimages.demo.site import gone, hang, html_page, not_found, photo, to_placeholder, truncated
from mlimages.training.options import TrainOptions

PARENT = ("n99990000", "pattern")
# Fake WordNet ids (the real ones start far lower), one per generated pattern.
SYNSETS = [(f"n9999{i + 1:04d}", name) for i, name in enumerate(synth.PATTERNS)]

# Planted broken links: (route, manifest status gather must give, how many).
BROKEN = [("dead", "http_404", 3), ("gone", "http_410", 1), ("hang", "timeout", 1),
          ("html", "not_image", 1), ("cut", "truncated", 1), ("moved", "placeholder", 1)]

# Planted duplicates, for `mlimages audit` to find: (source class, source photo, target
# class, the target's photo the copy replaces (from the end), how it is made). The first is
# the same photo under two labels. Replacing photos keeps every class's count, so the split
# (and the demo's figures) stay those of the task without them.
DUPLICATES = [(0, 0, 1, -1, "same bytes"), (0, 1, 0, -2, "re-encoded"), (1, 2, 1, -3, "mirrored"),
              (2, 3, 2, -4, "resized")]


@dataclass(frozen=True)
class DemoSize:
    """How big the generated task is (``quick`` for CI)."""
    classes: int
    per_class: int
    holdout: int
    image_size: tuple
    epochs: int
    batchsize: int
    lr: float = TrainOptions.lr             # train's own schedule unless a size says otherwise
    lr_decay: float = TrainOptions.lr_decay


# Split 60/20/20 (train/val/test). Train's default lr (0.01) is too slow for the 100-200
# iterations a demo can afford; a larger one, decayed every epoch, settles within them.
FULL = DemoSize(classes=4, per_class=100, holdout=2, image_size=(320, 240), epochs=10, batchsize=16,
                lr=0.08, lr_decay=0.85)
QUICK = DemoSize(classes=3, per_class=50, holdout=1, image_size=(160, 120), epochs=12, batchsize=8,
                 lr=0.04, lr_decay=0.95)


def make_task(folder, size, seed=1):
    """Write the served images and the held-out ones; returns ``{wnid: [file names]}``."""
    served, holdout = Path(folder) / "served", Path(folder) / "holdout"
    files = {}
    for c, (wnid, name) in enumerate(SYNSETS[:size.classes]):
        (served / wnid).mkdir(parents=True, exist_ok=True)
        holdout.mkdir(parents=True, exist_ok=True)
        for i in range(size.per_class + size.holdout):
            w, h = size.image_size
            dims = (w, h) if i % 3 else (h, w)          # some portrait photos too
            image = synth.make_image(name, dims, seed=seed * 100_003 + c * 1_009 + i)
            if i < size.per_class:
                image.save(served / wnid / f"{i:04d}.jpg", quality=88)
                files.setdefault(wnid, []).append(f"{i:04d}.jpg")
            else:
                image.save(holdout / f"{name}_{i:04d}.jpg", quality=88)
    _plant_duplicates(served, files)
    return files


def _plant_duplicates(served, files):
    """Overwrite photos with the copies of :data:`DUPLICATES` (a copy whose class or photos a
    small task lacks is left out); returns the replaced files' paths."""
    wnids, planted = list(files), []
    for source, index, target, slot, how in DUPLICATES:
        if max(source, target) >= len(wnids) or index >= len(files[wnids[source]]) - 1:
            continue
        src = served / wnids[source] / files[wnids[source]][index]
        dst = served / wnids[target] / files[wnids[target]][slot]
        if src == dst:
            continue
        image = Image.open(src)
        if how == "same bytes":
            dst.write_bytes(src.read_bytes())
        elif how == "re-encoded":
            image.save(dst, quality=60)
        elif how == "mirrored":
            image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(dst, quality=88)
        else:
            image.resize((image.width // 2, image.height // 2)).save(dst, quality=88)
        planted.append(dst)
    return planted


def publish(site, folder, files):
    """Serve the task of ``make_task`` on ``site`` and write its lists into ``folder``.

    Writes ``urls.txt`` (the photos, then the broken links of :data:`BROKEN` spread over the
    synsets), ``words.txt`` and ``wordnet.is_a.txt``.
    """
    folder = Path(folder)
    lines = _photo_lines(site, folder / "served", files)
    lines += _broken_lines(site, folder / "served", files)
    (folder / "urls.txt").write_text("\n".join(lines) + "\n")
    words = [PARENT] + [s for s in SYNSETS if s[0] in files]
    (folder / "words.txt").write_text("".join(f"{w}\t{n}\n" for w, n in words))
    (folder / "wordnet.is_a.txt").write_text("".join(f"{PARENT[0]} {w}\n" for w in files))


def _photo_lines(site, served, files):
    return [f"{wnid}_{i}\t{site.add(f'/photos/{wnid}/{n}', photo(served / wnid / n))}"
            for wnid, names in files.items() for i, n in enumerate(names)]


def _broken_lines(site, served, files):
    wnids = list(files)
    sample = (served / wnids[0] / files[wnids[0]][0]).read_bytes()
    answers = {"dead": not_found(), "gone": gone(), "hang": hang(), "html": html_page(),
               "cut": truncated(sample), "moved": to_placeholder()}
    lines, k = [], 0
    for route, _, count in BROKEN:
        for _ in range(count):
            wnid = wnids[k % len(wnids)]
            url = site.add(f"/{route}/{wnid}_{k}.jpg", answers[route])
            lines.append(f"{wnid}_{9000 + k}\t{url}")
            k += 1
    return lines
