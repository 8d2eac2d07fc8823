"""Small filesystem and process helpers shared by every stage: atomic writes, where an output
can go, the context of every process pool, environment variables set for a while."""

import contextlib
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


def blocking_file(folder):
    """What stops ``folder`` from being (made) a folder: the nearest of it and its parents
    that exists, when that is not a folder; None when ``folder`` is one or can be made.

    Every stage checks its ``--out`` with this before any work, and words its own error.
    """
    folder = Path(folder)
    chain = (folder, *folder.absolute().parents)
    existing = next((p for p in chain if p.exists() or p.is_symlink()), None)
    return existing if existing is not None and not existing.is_dir() else None


def pool_context():
    """The multiprocessing context of every process pool: forkserver (spawn where there is
    none), so that workers inherit no thread and no open file of the caller.

    A forked worker would hold every file this process has open (gather's lock, a log) and
    could deadlock on a lock one of its threads held (NumPy's BLAS starts threads at import;
    Python 3.12 warns about such forks).
    """
    import multiprocessing
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@contextlib.contextmanager
def environment(**values):
    """``os.environ`` with ``values`` set while it is entered (what is imported or started
    meanwhile sees them), as it was afterwards (a variable that was absent is removed)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
