"""The one reader of ``.npz`` files (``model.npz``, trainer snapshots, ``--init-model``): no pickle.

Chainer's ``load_npz`` opens files with ``numpy.load(allow_pickle=True)``: a ``model.npz`` that
is a pickle, or an ``.npz`` with one object array in it, runs its author's code when loaded.
Here a file is opened as a zip archive (a pickle is not one), and every member's ``.npy``
header is read with :mod:`numpy.lib.format` before any array is::

    member        conv1/W.npy            "updater/model:main/predictor/fc5/b.npy"
    header        magic 1.0 or 2.0, dtype, shape           (read first, for every member)
    refused       an object dtype (pickle), a structured one, a shape whose bytes the
                  member does not hold (no allocation on a header's word)
    data          read with allow_pickle=False, only when asked for

:class:`NpzArchive` is a read-only mapping that Chainer's ``NpzDeserializer`` reads from;
:func:`load_into` loads an object (a network, a trainer) from a file with it.
"""

import os
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy
from numpy.lib import format as npy_format

from mlimages._chainer import chainer
from mlimages.errors import MlimagesError

#: dtype kinds an array may have: booleans, integers, reals, complex numbers, bytes, text
#: (a trainer snapshot stores its log as one string).
_PLAIN_KINDS = "biufcSU"
_READERS = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}
# Deflate expands at most 1032 times; a member whose recorded size says more is lying.
_DEFLATE_MAX_RATIO = 1032
_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


class NpzError(MlimagesError, ValueError):
    """An ``.npz`` that holds anything but plain arrays, or is damaged.

    Attributes: path (the file), detail (what is wrong); the message is "PATH: DETAIL".
    """

    def __init__(self, path, detail):
        super().__init__(f"{path}: {detail}")
        self.path, self.detail = path, detail


class NpzMismatch(NpzError):
    """A sound ``.npz`` that does not fit the object loaded from it (an array missing, or of
    another shape or dtype); names the file and the array."""


class Header(NamedTuple):
    """What an ``.npy`` member says it holds: shape (tuple), dtype (numpy.dtype)."""

    shape: tuple
    dtype: numpy.dtype


class NpzArchive:
    """An ``.npz`` opened for reading: every header checked now, arrays read when asked for.

    A read-only mapping of array names (``"conv1/W"``) to arrays, as ``numpy.load`` gives and
    ``chainer.serializers.NpzDeserializer`` reads; ``headers`` has every member's Header. Use
    it as a context manager.

    Raises:
        NpzError: not a zip archive, damaged, or a member that is not a plain array.
    """

    def __init__(self, path):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except _READ_ERRORS as e:
            raise NpzError(self.path, f"not an .npz archive, or a truncated one "
                           f"({_reason(e)}); expected a model.npz or snapshot written by "
                           "`mlimages train`") from None
        self.last = None  # the name of the array read last (for errors)
        try:
            self._members = self._check_members()
        except BaseException:
            self._zip.close()
            raise

    def _check_members(self):
        """{name: (ZipInfo, Header)}, every member checked."""
        infos = self._zip.infolist()
        stored = sum(info.compress_size for info in infos)
        if stored > os.path.getsize(self.path):
            raise NpzError(self.path, f"truncated: its members need {stored} bytes, the "
                           f"file has {os.path.getsize(self.path)}")
        members = {}
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise NpzError(self.path, f"member {info.filename!r} is not an array "
                               "(.npy); mlimages reads plain arrays only")
            members[info.filename[:-4]] = (info, self._header(info))
        return members

    def _header(self, info):
        name = info.filename[:-4]
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or (
                info.file_size > info.compress_size * _DEFLATE_MAX_RATIO + 65536):
            raise NpzError(self.path, f"member {name} is not stored as NumPy stores arrays "
                           "(unknown compression, or a size no deflate stream reaches)")
        try:
            with self._zip.open(info) as f:
                version = npy_format.read_magic(f)
                if version not in _READERS:
                    raise ValueError(f"unsupported .npy format version {version}")
                shape, _, dtype = _READERS[version](f)
                header_size = f.tell()
        except _READ_ERRORS as e:
            raise NpzError(self.path, f"member {name} is damaged ({_reason(e)})") from None
        _check_dtype(self.path, name, dtype)
        declared = int(numpy.prod(shape, dtype=object)) * dtype.itemsize
        if declared != info.file_size - header_size:
            raise NpzError(self.path, f"member {name} declares shape {shape} {dtype} "
                           f"({declared} bytes) but holds {info.file_size - header_size} "
                           "bytes; the file is damaged")
        return Header(tuple(shape), dtype)

    @property
    def headers(self):
        """{name: Header} of every array in the file."""
        return {name: header for name, (_, header) in self._members.items()}

    def __getitem__(self, name):
        info, _ = self._members[name]
        self.last = name
        try:
            with self._zip.open(info) as f:
                return npy_format.read_array(f, allow_pickle=False)
        except _READ_ERRORS as e:
            raise NpzError(self.path, f"cannot read {name} ({_reason(e)}); the file is "
                           "damaged") from None

    def __contains__(self, name):
        return name in self._members

    def __iter__(self):
        return iter(self._members)

    def __len__(self):
        return len(self._members)

    def keys(self):
        return self._members.keys()

    def close(self):
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check_dtype(path, name, dtype):
    if dtype.hasobject:
        raise NpzError(path, f"member {name} holds Python objects (a pickle, dtype "
                       f"{dtype}); mlimages never unpickles (allow_pickle=False): use a "
                       "file written by `mlimages train` or chainer.serializers.save_npz")
    if dtype.kind not in _PLAIN_KINDS or dtype.names is not None:
        raise NpzError(path, f"member {name} has dtype {dtype}, not a plain array of "
                       "numbers or text")


def _reason(e):
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def load_into(path, obj, what):
    """Load ``obj`` (a network, a trainer) from the ``.npz`` at ``path``, as ``load_npz`` does
    but without pickle (Chainer's ``NpzDeserializer`` reading an :class:`NpzArchive`).

    Args:
        what (str): what ``obj`` is, for the error (e.g. "the small network with 3 classes").

    Raises:
        NpzError: the file is not plain arrays or is damaged.
        NpzMismatch: the file does not fit ``obj`` (an array missing, another shape or dtype).
    """
    with NpzArchive(path) as archive:
        try:
            chainer.serializers.NpzDeserializer(archive).load(obj)
        except NpzError:
            raise
        except KeyError as e:
            raise NpzMismatch(path, f"it does not fit {what}: no array {e.args[0]}") from None
        except (ValueError, TypeError) as e:  # another shape, a dtype that cannot be cast
            raise NpzMismatch(path, f"it does not fit {what}: {archive.last}: "
                              f"{_reason(e)}") from None
