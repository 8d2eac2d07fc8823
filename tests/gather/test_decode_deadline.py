"""Issue 12, item 3 in gather: a scan-bomb JPEG is recorded ``too_complex`` without being
decoded, and a body whose decoding overruns the deadline costs its worker, not the run."""

import asyncio
import time

from PIL import ImageFile

from bombs import scan_bomb
from mlimages.demo.site import image_bytes
from mlimages.gather import STATUSES, GatherOptions
from mlimages.gather.placeholders import load_placeholders
from mlimages.gather.validate import check_body
from mlimages.gather.workers import Validators, settings_for


def test_scan_bomb_body_is_too_complex_item3(monkeypatch):
    decodes, real = [], ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda im: decodes.append(im) or real(im))
    verdict = check_body(scan_bomb(1024, 1000), "http://x/bomb.jpg", 0, load_placeholders([]))
    assert verdict.status == "too_complex", verdict
    assert "scans" in verdict.reason and len(verdict.sha1) == 40
    assert decodes == []  # refused before decoding
    assert not STATUSES["too_complex"][0]  # permanent: never fetched again


def check_in_order(settings, paths):
    async def go():
        validators = Validators(1, settings)
        try:
            await validators.attach()
            asks = [validators.check(str(p), f"http://x/{p.name}") for p in paths]
            return await asyncio.gather(*asks)  # all queued on the one worker at once
        finally:
            await validators.aclose()
            validators.kill()
    return asyncio.run(go())


def test_a_decode_over_the_deadline_replaces_the_worker_item3(tmp_path):
    slow, good, after = tmp_path / "slow.jpg", tmp_path / "good.jpg", tmp_path / "after.jpg"
    slow.write_bytes(scan_bomb(6000, 250))  # within the scan limit, ~1 s to decode
    good.write_bytes(image_bytes(seed=1))
    after.write_bytes(image_bytes(seed=2))
    settings = settings_for(GatherOptions())
    settings["decode_deadline"] = 0.2
    started = time.monotonic()
    stuck, ok, ok_too = check_in_order(settings, [slow, good, after])
    assert stuck.status == "too_complex" and "0.2 s" in stuck.reason, stuck
    assert ok.status == "ok" and ok_too.status == "ok"  # queued behind it, asked again
    assert time.monotonic() - started < 10
