"""The decode processes and their pipe protocol (mlimages/gather/workers.py)."""

import asyncio

from PIL import Image

from mlimages.demo.site import image_bytes
from mlimages.gather import GatherOptions
from mlimages.gather.workers import Validators, settings_for


def check_all(settings, asks, kill_first=False):
    """Verdicts on ``asks``, a list of (body, temp path), asked of one worker in turn."""
    async def go():
        validators = Validators(1, settings)
        try:
            await validators.attach()
            if kill_first:
                validators.workers[0].proc.kill()
                await validators.workers[0].reading  # sees the end of the pipe
            return [await validators.check(body, str(path), f"http://x/{path.name}")
                    for body, path in asks]
        finally:
            await validators.aclose()
            validators.kill()
    return asyncio.run(go())


def test_answers_in_order_and_writes_only_what_is_kept_resized(tmp_path):
    good, bad = tmp_path / "good.part", tmp_path / "bad.part"
    settings = settings_for(GatherOptions(resize=(16, 12), resize_mode="squash", min_size=10))
    ok, not_image = check_all(settings, [(image_bytes((80, 60), seed=1), good),
                                         (b"<html>nope</html>", bad)])
    assert ok.status == "ok" and ok.format == "JPEG" and ok.size == (80, 60)
    assert len(ok.sha1) == 40
    assert not_image.status == "not_image"
    with Image.open(good) as im:
        assert im.size == (16, 12)
    assert not bad.exists()


def test_a_kept_body_is_written_as_sent(tmp_path):
    body = image_bytes((300, 200), seed=4)
    big = image_bytes((900, 700), seed=5, quality=100)  # noise: more than a pipe holds
    assert len(big) > 1 << 20
    (ok, ok_big) = check_all(settings_for(GatherOptions()),
                             [(body, tmp_path / "a.part"), (big, tmp_path / "b.part")])
    assert ok.status == ok_big.status == "ok"
    assert (tmp_path / "a.part").read_bytes() == body
    assert (tmp_path / "b.part").read_bytes() == big


def test_a_dead_worker_is_replaced(tmp_path):
    (verdict,) = check_all(settings_for(GatherOptions()),
                           [(image_bytes(seed=2), tmp_path / "good.part")], kill_first=True)
    assert verdict.status == "ok"


def test_a_temp_file_that_cannot_be_written_is_a_write_error(tmp_path):
    taken = tmp_path / "taken.part"
    taken.write_bytes(b"someone else's")
    unwritable, missing_folder, ok = check_all(settings_for(GatherOptions()), [
        (image_bytes(seed=3), taken), (image_bytes(seed=3), tmp_path / "no" / "x.part"),
        (image_bytes(seed=3), tmp_path / "ok.part")])
    assert unwritable.status == missing_folder.status == "write_error"
    assert "File exists" in unwritable.reason and len(unwritable.sha1) == 40
    assert taken.read_bytes() == b"someone else's"
    assert ok.status == "ok" and (tmp_path / "ok.part").exists()
