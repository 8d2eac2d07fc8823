"""Safe file and folder names for downloads: nothing a URL or a list says can leave ``--out``,
and nothing planted in it either.

A name is built from the list's id (ImageNet ``n02121808_1234``) or, without one, from the last
segment of the URL plus a short hash of the whole URL (two sites' ``image.jpg`` stay apart, and
the name does not depend on the order in which downloads finish, so a resumed run names every
file as an uninterrupted one would).  Every component is sanitised: no separators, no ``..``, no
control characters, no leading dot (hidden files are skipped by ``mlimages label``), no Windows
device names, at most ``MAX_NAME_BYTES`` bytes of UTF-8.

On disk, gather writes nothing through a link: its own files are opened with ``O_NOFOLLOW``
and must be regular files with one name (:func:`open_own`), and each folder on the way to an
image is checked with ``lstat`` before its first use (:func:`require`); ``--out`` itself may be
a link.  (Checked, then used: a link swapped in between by a process running at the same time
is not guarded against.)
"""

import errno
import hashlib
import os
import posixpath
import re
import stat
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mlimages.gather.records import GatherError

MAX_NAME_BYTES = 120  # ext4 and most filesystems allow 255 bytes; leave room for suffixes
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,+=@-]*[A-Za-z0-9_=+@-]\Z|[A-Za-z0-9_]\Z")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_INVISIBLE = ("Cc", "Cf", "Cs", "Zl", "Zp")  # controls, format (bidi), surrogates, separators
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                    *(f"lpt{i}" for i in range(10))}
FILE, FOLDER = "a regular file of its own", "a real folder"  # what require() wants
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp",
              "TIFF": ".tif", "MPO": ".jpg", "PPM": ".ppm", "ICO": ".ico"}


def safe_component(text, max_bytes=MAX_NAME_BYTES):
    """Turn any text into one safe path component (never empty, ".", ".." or hidden).

    Args:
        text (str): an id, a label or a URL segment, possibly hostile.
        max_bytes (int): bound on the UTF-8 length of the result.

    Returns:
        str: a name without separators, control characters or leading dots.
    """
    text = str(text)
    if len(text) <= max_bytes and _PLAIN.match(text) and \
            text.split(".")[0].lower() not in _WINDOWS_DEVICES:
        return text  # the common case (ImageNet ids, photo names): nothing to change
    text = unicodedata.normalize("NFC", text)
    text = "".join("_" if unicodedata.category(c) in _INVISIBLE else c for c in text)
    text = _UNSAFE.sub("_", text).strip(" .")
    if not text or set(text) <= {"."}:
        text = "_"
    if text.split(".")[0].lower() in _WINDOWS_DEVICES:
        text = "_" + text
    return _truncate_utf8(text, max_bytes).rstrip(" .") or "_"


def safe_folder(label):
    """A label as a relative POSIX folder: each "/"-separated part made safe ("" stays "")."""
    parts = [p for p in str(label).replace("\\", "/").split("/") if p.strip(" .")]
    return "/".join(safe_component(p) for p in parts)


def url_hash(url, n=10):
    """The first ``n`` hex digits of the SHA1 of ``url`` (stable across runs and machines)."""
    return hashlib.sha1(url.encode("utf-8", "surrogateescape")).hexdigest()[:n]


def file_stem(url, item_id=None):
    """The file name without extension for one download.

    Args:
        url (str): the URL as listed.
        item_id (str or None): the list's id for it, if the list has ids.

    Returns:
        str: ``safe(id)``, or ``safe(last URL segment without extension) + "_" + url_hash``.
    """
    if item_id:
        return safe_component(_strip_ext(item_id))
    try:
        segment = urlsplit(url).path.rsplit("/", 1)[-1]
    except ValueError:
        segment = ""
    stem = _strip_ext(unquote(segment)) or "image"
    return f"{safe_component(stem, MAX_NAME_BYTES - 12)}_{url_hash(url)}"


def extension(fmt):
    """The file extension (with dot) for a Pillow format name such as "JPEG"."""
    return EXTENSIONS.get(fmt, "." + safe_component(str(fmt).lower(), 8))


def inside(root, relpath):
    """True if ``root/relpath`` stays inside ``root``, judged from the text alone.

    No file system calls: the names come from :func:`safe_component`, and a URL cannot make
    symlinks, so a lexical check is the last guard a URL could need (and it is cheap enough to
    run on the event loop for every file).
    """
    if posixpath.isabs(relpath) or os.path.isabs(relpath):
        return False
    root = os.path.normpath(os.fspath(root))
    target = os.path.normpath(os.path.join(root, relpath))
    return target != root and os.path.commonpath([root, target]) == root


class NameRegistry:
    """Claims file names so that two downloads never share one, case-insensitively.

    A stem already taken by another URL gets the URL's hash appended, so the second file is
    still named deterministically from its own URL.
    """

    def __init__(self):
        self._owner = {}

    def claim(self, folder, stem, ext, url):
        """Reserve and return the relative POSIX path for ``url``'s file.

        Args:
            folder (str): safe relative folder ("" for the top).
            stem (str): from :func:`file_stem`.
            ext (str): from :func:`extension`.
            url (str): the owner of the name.

        Returns:
            str: ``folder/stem.ext`` or ``folder/stem_<hash>.ext`` when the stem was taken.
        """
        for candidate in (stem, f"{stem}_{url_hash(url)}", f"{stem}_{url_hash(url, 40)}"):
            key = posixpath.join(folder, candidate).lower()
            if self._owner.setdefault(key, url) == url:
                return posixpath.join(folder, candidate + ext)
        raise ValueError(f"cannot name a file for {url!r} in {folder!r}: every candidate taken")

    def add(self, path, url):
        """Record a name already on disk (from the manifest of an earlier run)."""
        stem = posixpath.splitext(path)[0]
        self._owner.setdefault(stem.lower(), url)

    def release(self, path, url):
        """Give a name back (its file could not be written)."""
        key = posixpath.splitext(path)[0].lower()
        if self._owner.get(key) == url:
            del self._owner[key]


def _strip_ext(name):
    stem, ext = posixpath.splitext(name)
    return stem if 1 < len(ext) <= 5 else name


def _truncate_utf8(text, max_bytes):
    data = text.encode("utf-8", "surrogateescape")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


# ------------------------------------------------------------------ on disk
def check_out(root):
    """Refuse an ``--out`` that is, or lies under, something other than a folder.

    Nothing is created: use it before any work; :func:`make_out` creates the folder.
    """
    path = Path(root)
    for folder in (path, *path.parents):
        if os.path.lexists(folder):
            if not folder.is_dir():
                raise GatherError(f"--out {root}: {folder} is not a folder; choose another --out")
            return


def make_out(root):
    """Create ``--out`` (and its parents); a :class:`GatherError` naming it if that fails."""
    check_out(root)
    try:
        Path(root).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GatherError(f"cannot create --out {root}: {e.strerror}") from None
    return Path(root)


def open_own(path, flags, mode=0o644):
    """Open one of gather's own files under ``--out``: never through a link, only a file.

    Returns:
        int: a file descriptor (close-on-exec: no child process holds it).

    Raises:
        GatherError: ``path`` is a symbolic link, a folder, a device, or has a second hard link.
    """
    try:  # O_NONBLOCK: a planted FIFO must not hang the open; cleared below
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, mode)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.EISDIR):
            raise _refused(path, "a symbolic link" if e.errno == errno.ELOOP else "a folder",
                           FILE) from None
        raise GatherError(f"cannot open {path}: {e.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
        os.close(fd)
        raise _refused(path, _kind(info) if not stat.S_ISREG(info.st_mode) else
                       f"a file with {info.st_nlink - 1} more hard link(s)", FILE)
    os.set_blocking(fd, True)
    return fd


def lkind(path):
    """What ``path`` itself is, no link followed: None when absent, else "a file", "a folder",
    "a symbolic link" or "a special file"."""
    try:
        return _kind(os.lstat(path))
    except FileNotFoundError:
        return None


def require(path, need):
    """Refuse ``path`` unless it is absent or what ``need`` (FILE or FOLDER) says."""
    kind = lkind(path)
    if kind is not None and kind != ("a file" if need == FILE else "a folder"):
        raise _refused(path, kind, need)


def _kind(info):
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link"
    if stat.S_ISDIR(info.st_mode):
        return "a folder"
    return "a file" if stat.S_ISREG(info.st_mode) else "a special file"


def _refused(path, what, need):
    return GatherError(f"{path} is {what} where gather needs {need} (it writes nothing "
                       "through links, nothing outside --out); remove it or choose another --out")
