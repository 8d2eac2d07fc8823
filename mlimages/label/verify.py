"""``label --verify``: decode every listed file on a process pool, collect the unreadable ones."""

import os
from concurrent.futures import ProcessPoolExecutor

from tqdm import tqdm

from mlimages._fs import pool_context
from mlimages.image import ImageError, verify_image


def _verify_one(path):
    try:
        verify_image(path)
        return None
    except ImageError as e:
        return f"{e.reason}: {e.detail}" if getattr(e, "detail", None) else str(e.reason)


def verify_files(paths, workers=None, progress=True):
    """Decode every file in parallel; return ``{path: reason}`` for the bad ones.

    A reason is ``"slug: detail"`` (or the slug alone), the slug one of ``mlimages.image.REASONS``.
    """
    paths = list(paths)
    if not paths:
        return {}
    workers = workers or os.cpu_count() or 1
    bad = {}
    chunk = max(1, min(64, len(paths) // (workers * 8) or 1))
    with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as pool:
        results = pool.map(_verify_one, paths, chunksize=chunk)
        for path, reason in tqdm(zip(paths, results), total=len(paths), unit="img",
                                 desc="verify", disable=not progress, leave=False):
            if reason is not None:
                bad[path] = reason
    return bad
