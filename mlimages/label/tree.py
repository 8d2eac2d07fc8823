"""Walking the class-per-folder tree: which folders are classes, which files are images.

Hidden files and folders are skipped, entries are visited in sorted order, symlinked folders
are followed only with ``follow_links`` and never twice (loops end), and unreadable folders
or entries become ``(path, reason)`` problems instead of errors.
"""

import os
from pathlib import Path

from mlimages import listfile
from mlimages.label.options import LabelError, LabelResult, check_options
from mlimages.label.verify import verify_files


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


def scan_tree(root, opts, progress=True):
    """Find classes and images under ``root``; verify them if asked.

    Returns:
        (classes, result): ``classes`` maps each kept class name to its good
        files (sorted); ``result`` is a :class:`LabelResult` holding rejects,
        empty classes and skipped counts (splits not filled yet).
    """
    root = Path(root)
    check_options(root, opts)
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
    found, rejects = _drop_unlistable(found, root)
    rejects = [(p, r) for p, r in problems] + rejects
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


def _drop_unlistable(found, root):
    """Take out the files whose names a list file cannot hold (``listfile.unlistable``).

    Returns:
        (found, rejects): ``found`` without them; ``(path, reason)`` for each.
    """
    kept, rejects = {}, []
    for name, files in found.items():
        kept[name] = []
        for path in files:
            problem = listfile.unlistable(relative(path, root))
            if problem:
                rejects.append((path, f"unlistable_name: {problem}; rename the file"))
            else:
                kept[name].append(path)
    return kept, rejects


def relative(path, base):
    """``path`` relative to ``base`` with ``/`` separators, as the list files hold it."""
    return os.path.relpath(path, base).replace(os.sep, "/")
