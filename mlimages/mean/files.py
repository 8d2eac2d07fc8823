"""The mean's files: where they go, how they are written, and the one reader of ``mean.npy``.

Written files (``--out DIR``: in the folder DIR; ``--out NAME.png`` or ``NAME.npy``, the
earlier form: NAME.npy, NAME.png, NAME.json)::

    mean.npy    float32 (C, H, W), RGB (or one grey channel), values 0..255: np.save, loads
                with np.load(..., allow_pickle=False); the --mean of Chainer's
                examples/imagenet/train_imagenet.py and of mlimages train
    mean.png    the mean rounded to uint8, to look at
    mean.json   channel order, shape, per-channel mean and std, counts, and the settings:
                "size" and "resize" are where a training run takes its image size and
                resize mode from (:func:`read_mean_info`)
    <list>_used_in_mean.txt      beside the list: the images actually summed (train on this one)
    <list>_rejects_in_mean.txt   beside the list, only when an image was unreadable:
                                 path<TAB>reason lines

Every reader of a ``mean.npy`` (training, the loader, predict) goes through :func:`read_mean`;
its writers (``mlimages mean``, a training run's copy) through :func:`write_mean_npy`.
"""

import io
import json
import os
from pathlib import Path

import numpy
from PIL import Image

from mlimages import listfile
from mlimages._fs import atomic_write_bytes, atomic_write_text, blocking_file
from mlimages.defaults import RESIZE_MODES
from mlimages.mean.options import MeanError

#: An --out ending in one of these names files (the earlier form); anything else is a folder.
_OUT_SUFFIXES = (".png", ".npy", ".json")
#: The files' stem inside an --out folder: DIR/mean.npy, DIR/mean.png, DIR/mean.json.
STEM = "mean"
_MAKE_ONE = "make it with `mlimages mean LIST --root ROOT --out DIR` (DIR/mean.npy)"


def read_mean(path):
    """Read a ``mean.npy`` as written by :func:`write_mean`.

    Args:
        path: the ``.npy`` file (read with ``allow_pickle=False``).

    Returns:
        numpy.ndarray: float32 (C, H, W), C = 3 (RGB) or 1 (grey), values 0..255.

    Raises:
        MeanError: the file cannot be read as one numeric array, or its shape is not
            (C, H, W) with C = 3 or 1; the message names the file and how to make one.
    """
    try:
        _check_declared_size(path)
        mean = numpy.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise MeanError(f"cannot read the mean {path}: {e}; {_MAKE_ONE}") from None
    if not isinstance(mean, numpy.ndarray) or mean.dtype.kind not in "biuf":
        raise MeanError(f"cannot read the mean {path}: not one numeric array (.npy); "
                        f"{_MAKE_ONE}")
    if mean.ndim != 3 or mean.shape[0] not in (1, 3):
        raise MeanError(f"{path}: expected a (C, H, W) mean image with C = 3 (RGB) or 1 "
                        f"(grey), got shape {mean.shape}; {_MAKE_ONE}")
    return mean.astype(numpy.float32)


def _check_declared_size(path):
    """Raise ValueError when the ``.npy`` header declares more data than the file holds.

    NumPy allocates what the header declares before reading: a 100-byte file can ask for
    120 GB. Files that are no ``.npy`` pass here and fail in ``numpy.load`` with its message.
    """
    with open(path, "rb") as f:
        try:
            version = numpy.lib.format.read_magic(f)
        except ValueError:
            return
        read = {(1, 0): numpy.lib.format.read_array_header_1_0,
                (2, 0): numpy.lib.format.read_array_header_2_0}.get(version)
        if read is None:
            return
        shape, _, dtype = read(f)
        need = int(numpy.prod(shape, dtype=object)) * dtype.itemsize
        have = os.fstat(f.fileno()).st_size - f.tell()
    if need > have:
        raise ValueError(f"its header declares {shape} {dtype} ({need} bytes) but the file "
                         f"holds {have}")


def write_mean_npy(path, mean):
    """Write ``mean`` (float32 (C, H, W)) to ``path`` atomically, as :func:`read_mean` reads it.

    Returns:
        Path: ``path``.
    """
    buffer = io.BytesIO()
    numpy.save(buffer, mean, allow_pickle=False)
    return atomic_write_bytes(path, buffer.getvalue())


def mean_npy(path):
    """The ``.npy`` a ``--mean`` argument names: a folder of ``mlimages mean --out DIR`` means
    its ``mean.npy``; anything else is the file itself. Returns a Path."""
    path = Path(path)
    return path / f"{STEM}.npy" if path.is_dir() else path


def info_path(npy):
    """The ``.json`` that ``mlimages mean`` writes beside the ``.npy`` ``npy`` (a Path)."""
    return Path(npy).with_suffix(".json")


def read_mean_info(npy):
    """The settings ``mlimages mean`` recorded for the mean ``npy`` (its ``.json``), or None
    when there is no ``.json`` beside it (a mean from elsewhere, e.g. Chainer's compute_mean).

    Returns:
        dict or None: the ``.json``'s object; its "size" is a positive int and its "resize"
        one of :data:`mlimages.defaults.RESIZE_MODES`.

    Raises:
        MeanError: the ``.json`` cannot be read, or lacks a valid size or resize mode.
    """
    path = info_path(npy)
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise MeanError(f"cannot read {path} ({e}): it is damaged; make the mean again "
                        "with `mlimages mean`, or remove the file") from None
    size, resize = (info.get("size"), info.get("resize")) if isinstance(info, dict) else (0, 0)
    if type(size) is not int or size < 1 or resize not in RESIZE_MODES:
        raise MeanError(f"cannot read {path}: size {size!r}, resize {resize!r}: expected a "
                        f"positive integer and one of {', '.join(RESIZE_MODES)}; make the "
                        "mean again with `mlimages mean`")
    return info


def _stem(out):
    """``--out`` as the common stem of the three files (see the module docstring)."""
    named = Path(out).suffix.lower() in _OUT_SUFFIXES
    if named and not str(out).endswith(("/", os.sep)):  # a trailing slash: a folder
        return Path(out).with_suffix("")
    return Path(out) / STEM


def output_paths(out, list_file):
    """The files :func:`write_mean` writes for ``--out`` and the input list.

    Args:
        out: a folder (the files are ``mean.npy``, ``mean.png``, ``mean.json`` in it), or,
            the earlier form, a name ending in ``.png``, ``.npy`` or ``.json`` (their stem).
        list_file: the list averaged (the used/rejects lists go beside it).

    Returns:
        dict: keys "npy", "png", "json", "used", "rejects" → Path.
    """
    stem = _stem(out)
    return {"npy": stem.with_name(stem.name + ".npy"),
            "png": stem.with_name(stem.name + ".png"),
            "json": stem.with_name(stem.name + ".json"),
            **list_companions(list_file)}


def list_companions(list_file):
    """The files ``mlimages mean`` writes beside the list it averaged (they describe that
    list as it was: ``mlimages label`` removes them when it writes the list again).

    Returns:
        dict: "used" → ``<list>_used_in_mean.txt``, "rejects" → ``<list>_rejects_in_mean.txt``.
    """
    list_file = Path(list_file)
    base = list_file.parent / list_file.stem
    return {"used": Path(f"{base}_used_in_mean.txt"),
            "rejects": Path(f"{base}_rejects_in_mean.txt")}


def check_outputs(out, list_file):
    """Raise MeanError unless every file :func:`write_mean` writes can be written: none is a
    folder, and each one's folder is a folder or can be made (checked before any work)."""
    for path in output_paths(out, list_file).values():
        if path.is_dir():
            raise MeanError(f"cannot write {path}: it is a folder; move it away or give "
                            "another --out")
        if blocking_file(path.parent) is not None:
            raise MeanError(f"cannot write {path}: {blocking_file(path.parent)} is a file, not "
                            "a folder; give another --out (a folder, or a name ending in .png)")


def write_mean(result, out, list_file, root="."):
    """Write the ``.npy``, ``.png`` and ``.json`` of ``result`` and the used/rejects lists.

    Args:
        result (mlimages.mean.MeanResult): what :func:`mlimages.mean.compute_mean` found.
        out, list_file, root: as given to :func:`mlimages.mean.mean_image`.

    Returns:
        list of Path: the files written (also stored in ``result.written``).
    """
    paths = output_paths(out, list_file)
    result.written = [write_mean_npy(paths["npy"], result.mean),
                      atomic_write_bytes(paths["png"], _png_bytes(result.mean)),
                      atomic_write_text(paths["json"], _json_text(result, paths, list_file, root)),
                      listfile.write_list(paths["used"], result.used)]
    if result.rejects:
        # TAB-separated, as label's rejects.txt: a path may contain spaces, a reason always does.
        text = "".join(f"{r.path}\t{r.reason}\n" for r in result.rejects)
        result.written.append(atomic_write_text(paths["rejects"], text))
    elif paths["rejects"].exists():
        paths["rejects"].unlink()  # a stale file from an earlier run would mislead
    return result.written


def _png_bytes(mean):
    # Rounded, not truncated: 127.9 is shown as 128.
    pixels = numpy.clip(numpy.rint(mean), 0, 255).astype(numpy.uint8)
    im = Image.fromarray(pixels[0] if len(pixels) == 1 else pixels.transpose(1, 2, 0))
    buffer = io.BytesIO()
    im.save(buffer, format="PNG")
    return buffer.getvalue()


def _json_text(result, paths, list_file, root):
    opts = result.options
    info = {
        "channel_order": "L" if opts.grayscale else "RGB",
        "layout": "CHW",
        "shape": list(result.mean.shape),
        "dtype": "float32",
        "values": "0..255 (not scaled to 0..1)",
        "channel_mean": [round(v, 4) for v in result.channel_mean],
        "channel_std": [round(v, 4) for v in result.channel_std],
        "images": len(result.used),
        "rejected": len(result.rejects),
        "size": opts.size,
        "resize": opts.resize,
        "grayscale": opts.grayscale,
        "list": str(list_file),
        "root": str(root),
        "npy": paths["npy"].name,
        "png": paths["png"].name,
        "used_list": str(paths["used"]),
        "rejects_list": str(paths["rejects"]) if result.rejects else None,
    }
    return json.dumps(info, indent=2) + "\n"
