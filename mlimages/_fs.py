"""Small filesystem helpers shared by every stage: atomic writes."""

import os
import secrets
from pathlib import Path


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` so that a reader sees the old file or the new
    one, never a partial one (temp file in the same folder, fsync, rename).

    The file gets the permissions of any new file (0666 less the umask), so that the lists,
    means and logs of a run on a shared machine can be read by the others who use it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _create_temp(path):
    """A new, empty file beside ``path``: (fd, name).

    Not tempfile.mkstemp: it creates files with mode 0600 whatever the umask.
    """
    while True:
        tmp = path.parent / f".tmp-{path.name[:40]}-{secrets.token_hex(4)}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def atomic_write_text(path, text):
    """Atomically write UTF-8 text (LF line ends) to ``path``."""
    return atomic_write_bytes(path, text.encode("utf-8", "surrogateescape"))
