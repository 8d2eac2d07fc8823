"""Class-per-folder tree → ``path label`` list files, splits and verification.

The tree looks like torchvision's ``ImageFolder`` expects it::

    ROOT/
      cat/001.jpg          class "cat"
      cat/persian/002.jpg  flattened into "cat" (or class "cat/persian" with nested="split")
      dog/003.png          class "dog"
      loose.jpg            a class of its own only with loose_class="NAME"

Class indices follow the sorted class names (the order of torchvision's
``ImageFolder`` and Keras), so models interoperate.  Hidden files and
folders (``.ipynb_checkpoints``) are skipped, symlinked folders are followed
only on request and never twice (loops end), unreadable folders are reported.
"""

import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from mlimages import listfile
from mlimages._fs import atomic_write_text
from mlimages.image import ImageError, verify_image
from mlimages.errors import MlimagesError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff",
                    ".webp", ".ppm", ".pgm", ".pbm")
SPLITS = ("train", "val", "test")


class LabelError(MlimagesError, ValueError):
    """The tree cannot be labelled as asked (bad ROOT, bad options)."""


@dataclass
class LabelOptions:
    """Options of :func:`label_tree`; the names are those of the CLI flags."""
    val: float = 0.0
    test: float = 0.0
    seed: int = 0
    shuffle: bool = False
    verify: bool = False
    extensions: tuple = IMAGE_EXTENSIONS
    follow_links: bool = False
    nested: str = "flatten"          # or "split": ROOT/a/b/x.jpg is class "a/b"
    loose_class: str = None          # name of a class for images lying in ROOT
    label: int = None                # one fixed label for every image under ROOT
    append: bool = False
    keep_empty: bool = False         # index class folders that hold no image
    path_root: str = None            # paths are written relative to this (ROOT)
    workers: int = None


@dataclass
class LabelResult:
    """What :func:`label_tree` found and wrote."""
    classes: list                      # class names, index = position
    splits: dict                       # split name -> list of listfile.Entry
    rejects: list = field(default_factory=list)       # (path, reason)
    empty_classes: list = field(default_factory=list)
    spaced_paths: list = field(default_factory=list)  # paths containing whitespace
    skipped_files: int = 0             # files without an image extension
    written: list = field(default_factory=list)       # files written


def _extensions(opts):
    """The image extensions of ``opts``, lower case, each with its leading dot."""
    return frozenset(e.lower() if e.startswith(".") else "." + e.lower() for e in opts.extensions)


def _is_hidden(name):
    return name.startswith(".")


def _walk(folder, opts, seen, problems):
    """Yield image files under ``folder`` (recursively, sorted), as Paths.

    Unreadable folders go to ``problems``; ``seen`` holds the real paths of
    folders already walked, so that symlink loops end.
    """
    real = os.path.realpath(folder)
    if real in seen:
        return
    seen.add(real)
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        problems.append((folder, f"unreadable_folder: {e.strerror}"))
        return
    for entry in entries:
        if _is_hidden(entry.name):
            continue
        try:
            if entry.is_dir(follow_symlinks=opts.follow_links):
                yield from _walk(Path(entry.path), opts, seen, problems)
            elif entry.is_file(follow_symlinks=True):
                yield Path(entry.path)
        except OSError as e:
            problems.append((Path(entry.path), f"unreadable: {e.strerror}"))


def _class_folders(root, opts, problems):
    """Return ``{class name: folder}`` for the immediate subfolders of ROOT."""
    folders = {}
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        raise LabelError(f"cannot read image folder {root}: {e.strerror}") from None
    for entry in entries:
        if _is_hidden(entry.name):
            continue
        try:
            if entry.is_dir(follow_symlinks=opts.follow_links):
                folders[entry.name] = Path(entry.path)
        except OSError as e:
            problems.append((Path(entry.path), f"unreadable: {e.strerror}"))
    return folders


def _collect(root, opts, problems):
    """Map each class name to its sorted image files.  Returns (classes, skipped)."""
    exts = _extensions(opts)
    skipped = 0
    classes = {}

    def add(name, path):
        nonlocal skipped
        if path.suffix.lower() in exts:
            classes.setdefault(name, []).append(path)
        else:
            skipped += 1

    seen = {os.path.realpath(root)}
    for name, folder in _class_folders(root, opts, problems).items():
        classes.setdefault(name, [])
        for path in _walk(folder, opts, seen, problems):
            if opts.nested == "split":
                parent = path.parent.relative_to(root).as_posix()
                classes.setdefault(parent, [])
                add(parent, path)
            else:
                add(name, path)
    if opts.loose_class:
        for entry in sorted(os.scandir(root), key=lambda e: e.name):
            if not _is_hidden(entry.name) and entry.is_file():
                add(opts.loose_class, Path(entry.path))
    return classes, skipped


def _verify_one(path):
    try:
        verify_image(path)
        return None
    except ImageError as e:
        return f"{e.reason}: {e.detail}" if getattr(e, "detail", None) else str(e.reason)


def verify_files(paths, workers=None, progress=True):
    """Decode every file in parallel; return ``{path: reason}`` for the bad ones."""
    paths = list(paths)
    if not paths:
        return {}
    workers = workers or os.cpu_count() or 1
    bad = {}
    chunk = max(1, min(64, len(paths) // (workers * 8) or 1))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = pool.map(_verify_one, paths, chunksize=chunk)
        for path, reason in tqdm(zip(paths, results), total=len(paths), unit="img",
                                 desc="verify", disable=not progress, leave=False):
            if reason is not None:
                bad[path] = reason
    return bad


def _split_class(files, val, test, rng):
    """Split one class's files into train/val/test (stratified by calling per class)."""
    files = list(files)
    rng.shuffle(files)
    n_val = int(round(len(files) * val))
    n_test = int(round(len(files) * test))
    if n_val + n_test > len(files):
        n_test = len(files) - n_val
    return {"val": sorted(files[:n_val]),
            "test": sorted(files[n_val:n_val + n_test]),
            "train": sorted(files[n_val + n_test:])}


def _check_options(root, opts):
    if not root.is_dir():
        raise LabelError(f"image folder {root} does not exist or is not a folder")
    for name in ("val", "test"):
        value = getattr(opts, name)
        if not 0 <= value < 1:
            raise LabelError(f"--{name} must be a fraction in [0, 1), got {value}")
    if opts.val + opts.test >= 1:
        raise LabelError(f"--val + --test must leave images for training, got "
                         f"{opts.val} + {opts.test}")
    if opts.nested not in ("flatten", "split"):
        raise LabelError(f"nested must be 'flatten' or 'split', got {opts.nested!r}")
    if opts.label is not None and opts.label < 0:
        raise LabelError(f"--label must be >= 0, got {opts.label}")


def scan_tree(root, opts, progress=True):
    """Find classes and images under ``root``; verify them if asked.

    Returns:
        (classes, result): ``classes`` maps each kept class name to its good
        files (sorted); ``result`` is a :class:`LabelResult` holding rejects,
        empty classes and skipped counts (splits not filled yet).
    """
    root = Path(root)
    _check_options(root, opts)
    problems = []
    if opts.label is not None:
        found, skipped = {}, 0
        seen = set()
        exts = _extensions(opts)
        for path in _walk(root, opts, seen, problems):
            if path.suffix.lower() in exts:
                found.setdefault("", []).append(path)
            else:
                skipped += 1
    else:
        found, skipped = _collect(root, opts, problems)
    rejects = [(p, r) for p, r in problems]
    if opts.verify:
        everything = [p for files in found.values() for p in files]
        bad = verify_files(everything, opts.workers, progress)
        rejects.extend(sorted(bad.items()))
        found = {name: [p for p in files if p not in bad] for name, files in found.items()}
    empty = sorted(name for name, files in found.items() if not files)
    if not opts.keep_empty:
        found = {name: files for name, files in found.items() if files}
    result = LabelResult(classes=sorted(found), splits={}, rejects=rejects,
                         empty_classes=empty, skipped_files=skipped)
    return found, result


def _merge_classes(out, names):
    """With append: keep the indices of label_def.txt and add new names after."""
    path = Path(out) / "label_def.txt"
    old = listfile.read_label_def(path) if path.exists() else []
    return old + [n for n in names if n not in old]


def label_tree(root, out, opts=None, progress=True):
    """Label the class-per-folder tree ``root`` and write the lists into ``out``.

    Writes ``train.txt`` (plus ``val.txt``/``test.txt`` when asked),
    ``label_def.txt`` and, when anything was rejected, ``rejects.txt``; all
    atomically.  Paths are relative to ``opts.path_root`` (default ``root``),
    with ``/`` separators.  Returns a :class:`LabelResult`.
    """
    opts = opts or LabelOptions()
    root, out = Path(root), Path(out)
    found, result = scan_tree(root, opts, progress)
    if not any(found.values()):
        raise LabelError(f"found no image under {root} (extensions: "
                         f"{' '.join(opts.extensions)}); expected one folder per class")
    base = Path(opts.path_root) if opts.path_root else root
    if opts.label is not None:
        index = {"": opts.label}
        result.classes = []
    else:
        result.classes = _merge_classes(out, sorted(found)) if opts.append else sorted(found)
        index = {name: i for i, name in enumerate(result.classes)}
    rng = random.Random(opts.seed)
    splits = {s: [] for s in SPLITS}
    for name in sorted(found):
        parts = _split_class(found[name], opts.val, opts.test, rng)
        for split, files in parts.items():
            splits[split].extend(listfile.Entry(os.path.relpath(p, base).replace(os.sep, "/"),
                                                index[name]) for p in files)
    if opts.shuffle:
        for split in SPLITS:
            rng.shuffle(splits[split])
    result.splits = splits
    result.rejects = [(os.path.relpath(p, base).replace(os.sep, "/"), r) for p, r in result.rejects]
    result.spaced_paths = [e.path for s in SPLITS for e in splits[s] if any(c.isspace() for c in e.path)]
    _write_outputs(out, opts, result)
    return result


def _write_outputs(out, opts, result):
    out.mkdir(parents=True, exist_ok=True)
    wanted = {"train": True, "val": opts.val > 0, "test": opts.test > 0}
    for split in SPLITS:
        if wanted[split]:
            path = out / f"{split}.txt"
            listfile.write_list(path, result.splits[split], append=opts.append)
            result.written.append(path)
    if opts.label is None:
        result.written.append(listfile.write_label_def(out / "label_def.txt", result.classes))
    rejects = out / "rejects.txt"
    if result.rejects:
        # TAB-separated: a path may contain spaces, a reason always does.
        text = "".join(f"{p}\t{reason}\n" for p, reason in result.rejects)
        result.written.append(atomic_write_text(rejects, text))
    elif rejects.exists() and not opts.append:
        rejects.unlink()  # a stale file from an earlier run would mislead


def summary_table(result):
    """Return the printed summary: per-class counts per split, and rejects."""
    splits = [s for s in SPLITS if result.splits.get(s)] or ["train"]
    counts = {}
    for split in splits:
        for entry in result.splits[split]:
            counts.setdefault(entry.label, dict.fromkeys(splits, 0))[split] += 1
    names = dict(enumerate(result.classes))
    width = max([len("class")] + [len(n) for n in result.classes]) + 2
    lines = ["index  " + "class".ljust(width) + "".join(s.rjust(8) for s in splits)]
    for label in sorted(counts):
        row = counts[label]
        lines.append(f"{label:5d}  " + names.get(label, "").ljust(width)
                     + "".join(str(row[s]).rjust(8) for s in splits))
    total = {s: len(result.splits[s]) for s in splits}
    lines.append("total  " + "".ljust(width) + "".join(str(total[s]).rjust(8) for s in splits))
    lines.append(f"rejected: {len(result.rejects)}"
                 + (f"  (see rejects.txt)" if result.rejects else ""))
    if result.empty_classes:
        lines.append("empty class folders (no usable image, not indexed): "
                     + ", ".join(result.empty_classes))
    if result.skipped_files:
        lines.append(f"skipped {result.skipped_files} files without an image extension")
    return "\n".join(lines)


def spaces_warning(result, examples=3):
    """Return a warning text when written paths contain whitespace, else ''."""
    if not result.spaced_paths:
        return ""
    shown = ", ".join(repr(p) for p in result.spaced_paths[:examples])
    return (f"warning: {len(result.spaced_paths)} paths contain whitespace (e.g. {shown}); "
            "mlimages reads them, but Chainer's LabeledImageDataset and Caffe split lines "
            "on any whitespace and cannot: rename those files for those tools")
