"""Benchmark: how long closing gather's decode workers takes at the end of a run.

Starts ``Validators(1)`` (one decode worker), validates one JPEG, then times ``aclose()``:
the worker reads the end of its input and exits, and the run waits for that.

    PYTHONPATH=TREE .venv/bin/python benchmarks/bench_worker_close.py   # one figure, in ms
"""

import asyncio
import tempfile
import time
from pathlib import Path

from mlimages.demo.site import image_bytes
from mlimages.gather import GatherOptions
from mlimages.gather.workers import Validators, settings_for


async def close_time(path):
    """Seconds ``aclose()`` takes after one validation (which must be ``ok``)."""
    validators = Validators(1, settings_for(GatherOptions()))
    await validators.attach()
    verdict = await validators.check(str(path), "http://x/a.jpg")
    if verdict.status != "ok":
        raise SystemExit(f"the test image was not kept: {verdict}")
    start = time.perf_counter()
    await validators.aclose()
    validators.kill()
    return time.perf_counter() - start


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.jpg"
        path.write_bytes(image_bytes(seed=1))
        print(f"{1000 * asyncio.run(close_time(path)):.1f} ms")


if __name__ == "__main__":
    main()
