"""mlimages demo: the whole pipeline offline, and its check of gather's summary."""

import json
import re
import subprocess
import sys

import pytest

from mlimages import demo
from mlimages.demo.task import BROKEN


def test_demo_quick_runs_the_whole_pipeline_offline(tmp_path):
    out = subprocess.run([sys.executable, "-m", "mlimages", "demo", "--quick", "--out",
                          str(tmp_path / "demo")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    for command in ("gather", "label", "mean", "train", "predict", "evaluate"):
        assert f"$ mlimages {command} " in out.stdout
    # the last step is evaluate on the held-out test split, and its report is printed
    assert out.stdout.rindex("$ mlimages evaluate ") > out.stdout.rindex("$ mlimages predict ")
    assert re.search(r"^accuracy +\d+\.\d\d% \(\d+/\d+\)$", out.stdout, re.M)
    # every planted broken link is named by gather's summary
    assert "mismatch" not in out.stdout and "planted 3 x http_404     gather reported 3" in out.stdout
    assert "Validation accuracy:" in out.stdout and "test accuracy:" in out.stdout
    for path in ("lists/train.txt", "lists/val.txt", "mean.npy", "mean.png", "result/model.npz",
                 "result/log", "result/loss.png", "images/manifest.jsonl", "lists/test.txt",
                 "result/eval-test/report.json", "result/eval-test/confusion.png",
                 "result/eval-test/mistakes.png"):
        assert (tmp_path / "demo" / path).is_file(), path


def test_check_gather_names_a_mismatch(tmp_path):
    counts = {status: n for _, status, n in BROKEN}
    counts["http_404"] -= 1
    (tmp_path / "summary.json").write_text(json.dumps({"manifest": {"by_status": counts}}))
    with pytest.raises(demo.DemoError, match="http_404 .* reported 2"):
        demo.check_gather(tmp_path)


def test_a_second_demo_removes_only_the_first_ones_files(tmp_path):
    for name in ("web/served/a.jpg", "images/manifest.jsonl", "lists/train.txt",
                 "result/args.json", "cache/train.npy", "mine/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "mean.npy").write_text("x")
    (tmp_path / "keep.txt").write_text("x")
    removed = demo.clear_previous(tmp_path)
    assert sorted(removed) == ["cache", "images", "lists", "mean.npy", "result", "web"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", "mine"]
