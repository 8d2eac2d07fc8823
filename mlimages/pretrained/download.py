"""One file over HTTP into the cache: resumed where a partial download stopped, checked, renamed.

The bytes go to ``FILE.part`` beside the final name; a later call asks the server for the rest
(``Range: bytes=N-``; a server that ignores it sends the whole file again). Only a file whose
length and SHA-1 are right is renamed to its final name (``os.replace``, atomic), so the
final name never holds a partial or wrong file. Python's own ``urllib`` (it honours
``http_proxy``/``https_proxy``/``no_proxy``); the progress bar is tqdm's, on stderr.
"""

import hashlib
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from mlimages.pretrained.registry import PretrainedError

CHUNK = 1 << 20
TIMEOUT = 60  # seconds without a byte before a download counts as failed


def by_hand(url, dest, sha1):
    """The advice of every download error: how to place the file without this download."""
    return (f"download {url} elsewhere and copy it to {dest} (sha1 {sha1}), or give "
            f"--init-model /path/to/{Path(dest).name}")


def download(url, dest, sha1, size=None, progress=True):
    """Download ``url`` to ``dest`` (a Path), resuming ``dest.part``; check it; rename it.

    Args:
        url: http(s) URL.  dest: the final file.  sha1: its SHA-1, hex.
        size: its length in bytes, or None (the server's length is checked instead).
        progress: show a tqdm bar (on a terminal only).

    Returns:
        Path: ``dest``, a file of the right size and sha1.

    Raises:
        PretrainedError: the server cannot be reached or refuses (one line: the URL, the
            reason, how to place the file by hand); the connection broke off (``dest.part``
            is kept: run again to resume); the size or sha1 is wrong (the file is deleted).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    response, total = _open(url, start, dest, sha1)
    if response is not None:
        with response:
            _stream(response, part, start if response.status == 206 else 0, total, progress,
                    url)
    check_file(part, sha1, size if size is not None else total, url, dest)
    os.replace(part, dest)
    return dest


def _open(url, start, dest, sha1):
    """(response or None, total length or None). None: a 416 for a complete ``.part``."""
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as e:
        if e.code == 416 and start:      # nothing after byte `start`: the part is whole
            e.close()
            return None, None
        raise PretrainedError(f"cannot download {url}: HTTP {e.code} {e.reason}; "
                              + by_hand(url, dest, sha1)) from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise PretrainedError(f"cannot download {url} ({reason}): offline or blocked? "
                              + by_hand(url, dest, sha1)) from None
    return response, _total(response, start)


def _total(response, start):
    """The whole file's length the answer states, or None."""
    if response.status == 206:
        match = re.fullmatch(r"bytes (\d+)-\d+/(\d+)", response.headers.get("Content-Range", ""))
        if not match or int(match[1]) != start:
            response.close()
            raise PretrainedError(f"{response.url}: the server answered a resume from byte "
                                  f"{start} with Content-Range "
                                  f"{response.headers.get('Content-Range')!r}; delete the "
                                  ".part file and run again")
        return int(match[2])
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _stream(response, part, start, total, progress, url):
    """Append the body to ``part`` (from ``start``: 0 rewrites it), with a bar; fsync."""
    from tqdm import tqdm
    with open(part, "ab" if start else "wb") as f, \
            tqdm(total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                 desc=part.name[:-5], disable=None if progress else True,
                 leave=False) as bar:  # None: a bar on a terminal only
        try:
            while chunk := response.read(CHUNK):
                f.write(chunk)
                bar.update(len(chunk))
        except OSError as e:             # a reset, a timeout, an IncompleteRead
            raise PretrainedError(f"the download of {url} broke off after {f.tell()} bytes "
                                  f"({e.__class__.__name__}: {e}); run the same command "
                                  f"again to resume from {part}") from None
        f.flush()
        os.fsync(f.fileno())


def sha1_of(path):
    """The SHA-1 (hex) of the file at ``path``, read in 1 MiB pieces."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        while piece := f.read(CHUNK):
            digest.update(piece)
    return digest.hexdigest()


def check_file(path, sha1, size, url, dest):
    """Refuse ``path`` unless it has ``size`` bytes (when not None) and the ``sha1``.

    Raises:
        PretrainedError: shorter than ``size`` (kept, to resume); longer, or another sha1
            (deleted, and the message says so).
    """
    path = Path(path)
    have = path.stat().st_size
    if size is not None and have < size:
        raise PretrainedError(f"{path}: {have} of {size} bytes of {url}; run the same "
                              "command again to resume")
    if size is not None and have > size:
        path.unlink()
        raise PretrainedError(f"{path} had {have} bytes, more than the {size} of {url}: "
                              "deleted it; run again to download it anew")
    got = sha1_of(path)
    if got != sha1:
        path.unlink()
        raise PretrainedError(f"{path}: sha1 {got} is not {sha1} (damaged, or not the file "
                              f"of {url}): deleted it; run again, or "
                              + by_hand(url, dest, sha1))
    return path
