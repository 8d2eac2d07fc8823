"""mlimages demo: the whole pipeline offline, and its check of gather's summary."""

import json
import re
import subprocess
import sys

import pytest

from mlimages import demo
from mlimages.demo.task import BROKEN, DUPLICATES, QUICK


def test_demo_quick_runs_the_whole_pipeline_offline(tmp_path):
    out = subprocess.run([sys.executable, "-m", "mlimages", "demo", "--quick", "--out",
                          str(tmp_path / "demo")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    for command in ("gather", "label", "mean", "audit", "train", "predict", "evaluate"):
        assert f"$ mlimages {command} " in out.stdout
    # the last step is evaluate on the held-out test split, and its report is printed
    assert out.stdout.rindex("$ mlimages evaluate ") > out.stdout.rindex("$ mlimages predict ")
    assert re.search(r"^accuracy +\d+\.\d\d% \(\d+/\d+\)$", out.stdout, re.M)
    # train shows its epoch table (human names, one row per epoch), not a --quiet run
    step = out.stdout[out.stdout.index("$ mlimages train "):out.stdout.index("$ mlimages predict ")]
    assert "--quiet" not in step.splitlines()[0]
    lines = step.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["epoch"])
    assert lines[at].split() == ["epoch", "loss", "acc", "val_loss", "val_acc", "lr", "time"]
    rows = [line.split()[0] for line in lines[at + 1:] if line.split()[:1] and
            line.split()[0].isdigit()]
    assert rows == [str(e) for e in range(1, QUICK.epochs + 1)]
    assert (tmp_path / "demo" / "result" / "curves.png").is_file()
    assert (tmp_path / "demo" / "result" / "model_best.npz").is_file()
    # every planted broken link is named by gather's summary
    assert "mismatch" not in out.stdout and "planted 3 x http_404     gather reported 3" in out.stdout
    assert "Validation accuracy:" in out.stdout and "test accuracy:" in out.stdout
    # audit finds the planted duplicates, pairs each, and nothing else; the copy under another
    # label is a leak of classes (gather names each photo after its place in its class: the
    # copies replaced the last four)
    audit = json.loads((tmp_path / "demo" / "audit" / "audit.json").read_text())
    assert len(audit["groups"]) == len(DUPLICATES)
    assert all(len(group) == 2 and any(int(m["path"].rsplit("_", 1)[1][:-4]) >= QUICK.per_class
                                       - len(DUPLICATES) for m in group)
               for group in audit["groups"])
    assert any(len(leak["classes"]) == 2 for leak in audit["leaks"])
    assert audit["manifest_status"]["http_404"] == 3
    for path in ("lists/train.txt", "lists/val.txt", "mean.npy", "mean.png", "result/model.npz",
                 "result/log", "result/loss.png", "images/manifest.jsonl", "lists/test.txt",
                 "result/eval-test/report.json", "result/eval-test/confusion.png",
                 "result/eval-test/mistakes.png", "audit/report.html", "audit/duplicates.csv"):
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
