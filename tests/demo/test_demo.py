"""mlimages demo: the whole pipeline offline, and its check of gather's summary."""

import json
import subprocess
import sys

import pytest

from mlimages import demo
from mlimages.demo.task import BROKEN


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


def test_check_gather_names_a_mismatch(tmp_path):
    counts = {status: n for _, status, n in BROKEN}
    counts["http_404"] -= 1
    (tmp_path / "summary.json").write_text(json.dumps({"manifest": {"by_status": counts}}))
    with pytest.raises(demo.DemoError, match="http_404 .* reported 2"):
        demo.check_gather(tmp_path)
