"""What :func:`mlimages.label.label_tree` takes and returns, its checks and its error type."""

from dataclasses import dataclass, field

from mlimages._fs import blocking_file
from mlimages.audit.options import DEFAULT_NEAR
from mlimages.errors import MlimagesError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff",
                    ".webp", ".ppm", ".pgm", ".pbm")
SPLITS = ("train", "val", "test")
#: How ROOT/a/b/x.jpg is labelled: class "a" (flatten) or class "a/b" (split).
NESTED_MODES = ("flatten", "split")


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
    group_duplicates: bool = False   # a duplicate group stays in one split
    drop_duplicates: bool = False    # keep the largest image of a group, reject the rest
    near: int = DEFAULT_NEAR         # dhash bits of a near duplicate (mlimages audit's)


@dataclass
class LabelResult:
    """What :func:`label_tree` found and wrote."""
    classes: list                      # class names, index = position
    splits: dict                       # split name -> list of listfile.Entry
    rejects: list = field(default_factory=list)       # (path, reason)
    empty_classes: list = field(default_factory=list)
    spaced_paths: list = field(default_factory=list)  # paths containing whitespace
    skipped_files: int = 0             # files without an image extension
    duplicate_groups: int = 0          # groups found by --group/--drop-duplicates
    grouped_images: int = 0            # the images in them
    written: list = field(default_factory=list)       # files written
    removed: list = field(default_factory=list)       # an earlier run's files, removed


def check_options(root, opts):
    """Raise LabelError unless ``root`` (a Path) is a folder and ``opts`` are consistent."""
    if not root.is_dir():
        raise LabelError(f"image folder {root} does not exist or is not a folder")
    for name in ("val", "test"):
        value = getattr(opts, name)
        if not 0 <= value < 1:
            raise LabelError(f"--{name} must be a fraction in [0, 1), got {value}")
    if opts.val + opts.test >= 1:
        raise LabelError(f"--val + --test must leave images for training, got "
                         f"{opts.val} + {opts.test}")
    if opts.nested not in NESTED_MODES:
        raise LabelError(f"nested must be one of {NESTED_MODES}, got {opts.nested!r}")
    if not -1 <= opts.near <= 31:
        raise LabelError(f"--near must be in -1..31 (dhash bits), got {opts.near}")
    if opts.label is not None and opts.label < 0:
        raise LabelError(f"--label must be >= 0, got {opts.label}")


def check_out(out, opts):
    """Raise LabelError unless every file :func:`label_tree` may write under ``out`` can be.

    ``out`` (a Path) must be a folder or not exist yet (it is created), below a folder; the
    lists, ``label_def.txt`` and ``rejects.txt`` in it must not be folders.
    """
    if blocking_file(out) is not None:
        raise LabelError(f"--out {out}: {blocking_file(out)} is not a folder; give a folder "
                         "(created if missing)")
    names = [f"{s}.txt" for s in SPLITS if s == "train" or getattr(opts, s) > 0]
    names += ["rejects.txt"] + (["label_def.txt"] if opts.label is None else [])
    for path in (out / name for name in names):
        if path.is_dir():
            raise LabelError(f"--out {out}: {path} is a folder, where label writes a file; "
                             "move it away or give another --out")
