"""The decode processes and their pipe protocol (mlimages/gather/workers.py)."""

import asyncio

from PIL import Image

from mlimages.demo.site import image_bytes
from mlimages.gather import GatherOptions
from mlimages.gather.workers import Validators, settings_for


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
