"""The decode processes and their pipe protocol (mlimages/gather/workers.py)."""

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest
from PIL import Image

from mlimages.demo.site import image_bytes
from mlimages.gather import GatherOptions
from mlimages.gather.workers import NICE, Validators, settings_for


def check_all(settings, paths, kill_first=False):
    async def go():
        validators = Validators(1, settings)
        try:
            await validators.attach()
            if kill_first:
                validators.workers[0].proc.kill()
                await validators.workers[0].reading  # sees the end of the pipe
            return [await validators.check(str(p), f"http://x/{p.name}") for p in paths]
        finally:
            await validators.aclose()
            validators.kill()
    return asyncio.run(go())


def test_answers_in_order_and_resizes_in_place(tmp_path):
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.jpg"
    good.write_bytes(image_bytes((80, 60), seed=1))
    bad.write_bytes(b"<html>nope</html>")
    settings = settings_for(GatherOptions(resize=(16, 12), resize_mode="squash", min_size=10))
    ok, not_image = check_all(settings, [good, bad])
    assert ok.status == "ok" and ok.format == "JPEG" and ok.size == (80, 60)
    assert len(ok.sha1) == 40
    assert not_image.status == "not_image"
    with Image.open(good) as im:
        assert im.size == (16, 12)


def test_a_dead_worker_is_replaced(tmp_path):
    good = tmp_path / "good.jpg"
    good.write_bytes(image_bytes(seed=2))
    (verdict,) = check_all(settings_for(GatherOptions()), [good], kill_first=True)
    assert verdict.status == "ok"


def test_a_file_that_vanished_is_an_error_not_a_crash(tmp_path):
    good = tmp_path / "good.jpg"
    good.write_bytes(image_bytes(seed=3))
    missing, ok = check_all(settings_for(GatherOptions()), [tmp_path / "gone.jpg", good])
    assert missing.status == "error" and "FileNotFoundError" in missing.reason
    assert ok.status == "ok"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_yields_the_cpu_to_the_event_loop_in_its_session(tmp_path):
    # Own process group (out of the terminal's signals), the event loop's session (so Linux
    # schedules them in one group and the nice value counts), NICE below the loop's priority.
    good = tmp_path / "good.jpg"
    good.write_bytes(image_bytes(seed=4))

    async def go():
        validators = Validators(1, settings_for(GatherOptions()))
        try:
            await validators.attach()
            assert (await validators.check(str(good), "http://x/good.jpg")).status == "ok"
            pid = validators.workers[0].proc.pid
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{pid}/status").read_text()
            return pid, stat, status
        finally:
            await validators.aclose()
            validators.kill()

    pid, stat, status = asyncio.run(go())
    pgrp, session, nice = int(stat[2]), int(stat[3]), int(stat[16])
    assert pgrp == pid and session == os.getsid(0)
    assert nice == min(19, os.nice(0) + NICE)
    ignored = int(re.search(r"^SigIgn:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTTOU):
        assert ignored & (1 << (sig - 1)), sig
