"""mlimages demo: the whole pipeline offline, and its check of gather's summary."""

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from mlimages import demo


def test_demo_quick_runs_the_whole_pipeline_offline(tmp_path):
    out = subprocess.run([sys.executable, "-m", "mlimages", "demo", "--quick", "--out",
                          str(tmp_path / "demo")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    for command in ("gather", "label", "mean", "train", "predict"):
        assert f"$ mlimages {command} " in out.stdout
    # every planted broken link is named by gather's summary
    assert "mismatch" not in out.stdout and "planted 3 x http_404     gather reported 3" in out.stdout
    assert "Validation accuracy:" in out.stdout
    for path in ("lists/train.txt", "lists/val.txt", "mean.npy", "mean.png", "result/model.npz",
                 "result/log", "result/loss.png", "images/manifest.jsonl"):
        assert (tmp_path / "demo" / path).is_file(), path


def test_server_answers_each_planted_kind(tmp_path):
    size = demo.DemoSize(classes=1, per_class=2, holdout=0, image_size=(64, 48), epochs=1,
                         batchsize=1)
    files = demo.make_task(tmp_path, size)
    with demo.DemoServer(tmp_path / "served") as server:
        wnid = next(iter(files))
        good = urllib.request.urlopen(f"{server.url}/photos/{wnid}/0000.jpg", timeout=5).read()
        assert good[:2] == b"\xff\xd8"
        for route, code in (("dead", 404), ("gone", 410)):
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(f"{server.url}/{route}/x.jpg", timeout=5)
            assert info.value.code == code
        moved = urllib.request.urlopen(f"{server.url}/moved/x.jpg", timeout=5)
        assert moved.geturl().endswith("/photo_unavailable.png")
        assert len(urllib.request.urlopen(f"{server.url}/cut/x.jpg", timeout=5).read()) < len(good) * 2


def test_check_gather_names_a_mismatch(tmp_path):
    counts = {status: n for _, status, n in demo.BROKEN}
    counts["http_404"] -= 1
    (tmp_path / "summary.json").write_text(json.dumps({"manifest": {"by_status": counts}}))
    with pytest.raises(demo.DemoError, match="http_404 .* reported 2"):
        demo.check_gather(tmp_path)
