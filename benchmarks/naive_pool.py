"""The naive baseline: a thread pool of requests sessions writing whatever answers 200.

``python benchmarks/naive_pool.py URLS OUT THREADS TIMEOUT [--validate]``; with --validate each
body is decoded by mlimages.image.verify_image first (what requests-in-threads would cost).
"""

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

_local = threading.local()


def fetch(job):
    i, url, out, timeout, validate = job
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    try:
        answer = session.get(url, timeout=timeout)
    except requests.RequestException:
        return "error"
    if answer.status_code != 200:
        return "http"
    if validate:
        from mlimages.image import ImageError, verify_image
        try:
            verify_image(answer.content, name=url)
        except ImageError:
            return "invalid"
    (out / f"{i:06d}.jpg").write_bytes(answer.content)
    return "written"


def main(urls, out, threads, timeout, validate=False):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines = Path(urls).read_text().split()
    jobs = [(i, u, out, float(timeout), validate) for i, u in enumerate(lines)]
    with ThreadPoolExecutor(int(threads)) as pool:
        results = list(pool.map(fetch, jobs))
    print({k: results.count(k) for k in set(results)})


if __name__ == "__main__":
    main(*sys.argv[1:5], validate="--validate" in sys.argv)
