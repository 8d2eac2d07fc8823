"""The loader's ``--cache``: every image of a list, already resized, in one memory-mapped array.

The first epoch decodes each image once and stores it (:class:`Reader`: from the cache, or
decoded and stored); later epochs (and later runs) only read it back, so they crop, flip and
subtract without decoding JPEG again. The files live in the
cache folder, named after the list and a key::

    CACHE/train-3f2a9c01d4e5b6a7.u8      uint8 (N, C, S, S): image i at [i], CHW, RGB or grey
    CACHE/train-3f2a9c01d4e5b6a7.state   uint8 (N,): 1 where image i is stored, 0 not yet
    CACHE/train-3f2a9c01d4e5b6a7.json    what the key was made of (list, root, size, mode)

The key is a hash of the list's lines, the root, the size, the resize mode and the channel
count, so a changed list or setting gets a new cache, and the old cache of the same list is
deleted (rebuilt, not reused). An image file changed in place under the same path is not
noticed: delete the cache folder then. Needs N x C x S x S bytes of disk (196 KiB per image at
256x256 RGB: 250 GB for ImageNet's 1.28 M images); the files are sparse until filled.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy

from mlimages._fs import atomic_write_text
from mlimages.errors import MlimagesError
from mlimages.image import open_image
from mlimages.loader import native
from mlimages.loader.transforms import chw_array

_VERSION = 1


class CacheError(MlimagesError, OSError):
    """The cache folder cannot hold the cache (no space, not writable)."""


def cache_key(entries, root, size, resize, channels):
    """16 hex digits that change whenever the list, root, size, mode or channels change."""
    digest = hashlib.sha256(f"{_VERSION}\n{os.path.abspath(root)}\n{size}\n{resize}\n"
                            f"{channels}\n".encode())
    for path, label in entries:
        digest.update(f"{path}\t{label}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


def _stem(list_file, key):
    return f"{Path(list_file).stem}-{key}"


def stored(folder, list_file, entries, root, size, resize, channels):
    """Which images of a list the cache in ``folder`` holds already, read without writing
    (the pre-flight asks before a run writes anything); arguments as :class:`ImageCache`'s.

    Returns:
        numpy bool (N,): True for an image stored; all False when there is no such cache.
    """
    key = cache_key(entries, root, size, resize, channels)
    try:
        flags = numpy.fromfile(Path(folder) / f"{_stem(list_file, key)}.state", numpy.uint8)
    except (OSError, ValueError):
        flags = None
    if flags is None or len(flags) != len(entries):
        return numpy.zeros(len(entries), bool)
    return flags == 1


class ImageCache:
    """Resized uint8 images of one list, shared by the loader's worker threads.

    Args:
        folder: the cache folder (created if needed).
        list_file: the list the images come from (names the files).
        entries: the list's (path, label) pairs, in list order.
        root, size, resize: how the images are read (part of the key).
        channels: 3 (RGB) or 1 (grey).

    Threads may ``put`` different indices at the same time; ``get`` returns None for an
    image not stored yet.
    """

    def __init__(self, folder, list_file, entries, root, size, resize, channels):
        self.folder = Path(folder)
        key = cache_key(entries, root, size, resize, channels)
        stem = _stem(list_file, key)
        self.data_path = self.folder / f"{stem}.u8"
        self.shape = (len(entries), channels, size, size)
        meta = {"version": _VERSION, "list": os.path.abspath(list_file),
                "root": os.path.abspath(root), "size": size, "resize": resize,
                "channels": channels, "images": len(entries), "layout": "N, C, H, W uint8"}
        self._open(stem, meta)

    def _open(self, stem, meta):
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fresh = not self.data_path.exists()
            if fresh:
                self._remove_stale(meta["list"])
                self._check_space()
            mode = "w+" if fresh else "r+"
            self.data = numpy.memmap(self.data_path, numpy.uint8, mode, shape=self.shape)
            self.state = numpy.memmap(self.folder / f"{stem}.state", numpy.uint8, mode,
                                      shape=(self.shape[0],))
            if fresh:
                atomic_write_text(self.folder / f"{stem}.json", json.dumps(meta, indent=2) + "\n")
        except (OSError, ValueError) as ex:
            if isinstance(ex, CacheError):
                raise
            raise CacheError(f"cannot use cache folder {self.folder}: {ex}; choose another "
                             "folder or delete this one") from ex

    def _remove_stale(self, list_path):
        """Delete the caches of the same list made with another key (list or settings changed)."""
        for meta_file in self.folder.glob("*.json"):
            try:
                if json.loads(meta_file.read_text()).get("list") != list_path:
                    continue
            except (OSError, ValueError):
                continue
            for suffix in (".u8", ".state", ".json"):
                meta_file.with_suffix(suffix).unlink(missing_ok=True)

    def _check_space(self):
        need = int(numpy.prod(self.shape))
        free = shutil.disk_usage(self.folder).free
        if need > free:
            raise CacheError(f"the cache of {self.shape[0]} images needs {need / 2**30:.1f} GiB "
                             f"in {self.folder} but only {free / 2**30:.1f} GiB are free; choose "
                             "another --cache folder or train without --cache")

    @property
    def complete(self):
        """True once every image is stored."""
        return bool(self.state.all())

    def get(self, index):
        """Image ``index`` as a uint8 (C, S, S) view of the map, or None if not stored yet."""
        # A plain ndarray: slices of a numpy.memmap each pay for its __array_finalize__.
        return self.data.view(numpy.ndarray)[index] if self.state[index] else None

    def put(self, index, chw):
        """Store image ``index`` (uint8 (C, S, S)); the flag is set after the pixels."""
        self.data[index] = chw
        self.state[index] = 1

    def close(self):
        """Flush to disk and drop the maps (a later ``get`` fails)."""
        for name in ("data", "state"):
            arr = getattr(self, name, None)
            if arr is not None:
                arr.flush()
                setattr(self, name, None)


class Reader:
    """Image ``index`` of the list as uint8 (C, S, S), from the cache or decoded."""

    def __init__(self, root, entries, spec, cache):
        self.root, self.entries, self.spec, self.cache = root, entries, spec, cache

    @classmethod
    def open(cls, root, entries, spec, cache_args):
        """The reader of a worker process: its own map of the cache (``cache_args``: the
        :class:`ImageCache` arguments, the files made by the parent already; or None)."""
        return cls(root, entries, spec, ImageCache(*cache_args) if cache_args else None)

    def read(self, index):
        """Image ``index`` as :func:`~mlimages.loader.transforms.place` takes it: uint8
        planes (C, S, S), or without a cache an RGB image's :class:`~.native.Pixels` where
        the compiled loops can read them (no copy into planes)."""
        if self.cache is not None:
            stored = self.cache.get(index)
            if stored is not None:
                return stored
        im = open_image(os.path.join(self.root, self.entries[index].path), self.spec)
        if self.cache is None:
            return native.pixels(im) or chw_array(im)
        chw = chw_array(im)
        self.cache.put(index, chw)
        return chw

