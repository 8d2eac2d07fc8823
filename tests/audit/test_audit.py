"""mlimages/audit/__init__.py and the command: a split with known leaks, flags, the files."""

import csv
import json

import pytest
from auditdata import photo, planted_tree

from mlimages.audit import AuditError, AuditOptions, audit
from mlimages.cli import main


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def leaky_split(tmp_path):
    """Lists over a tree: a/0.jpg in train, its q40 copy in val, its mirror in test (all class
    a), and b/3.jpg in train with a copy labelled a in val; the rest are distinct."""
    root = tmp_path / "images"
    for c in "ab":
        (root / c).mkdir(parents=True)
        for i in range(5):
            photo(50 * (c == "b") + i).save(root / c / f"{i}.jpg", quality=90)
    photo(0).save(root / "a" / "copy_q40.jpg", quality=40)
    photo(0).transpose(0).save(root / "a" / "mirror.jpg", quality=90)
    photo(53).save(root / "a" / "b3_copy.jpg", quality=70)
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "label_def.txt").write_text("0 a\n1 b\n")
    (lists / "train.txt").write_text("a/0.jpg 0\na/1.jpg 0\na/2.jpg 0\nb/3.jpg 1\nb/4.jpg 1\n")
    (lists / "val.txt").write_text("a/copy_q40.jpg 0\na/b3_copy.jpg 0\nb/0.jpg 1\n")
    (lists / "test.txt").write_text("a/mirror.jpg 0\na/3.jpg 0\nb/1.jpg 1\n")
    return root, lists


def test_a_split_with_known_leaks(leaky_split, tmp_path):
    root, lists = leaky_split
    out = tmp_path / "out"
    result = audit([lists / "train.txt", lists / "val.txt", lists / "test.txt"], out,
                   AuditOptions(root=str(root), workers=2), progress=False)
    leaks = {tuple(sorted(result.items[m.index].path.split("images/")[1]
                          for m in result.groups[leak.group])): leak for leak in result.leaks}
    assert set(leaks) == {("a/0.jpg", "a/copy_q40.jpg", "a/mirror.jpg"),
                          ("a/b3_copy.jpg", "b/3.jpg")}
    first = leaks[("a/0.jpg", "a/copy_q40.jpg", "a/mirror.jpg")]
    assert first.splits == ("test", "train", "val") and first.classes == ("a",)
    second = leaks[("a/b3_copy.jpg", "b/3.jpg")]
    assert second.splits == ("train", "val") and second.classes == ("a", "b")
    rows = _rows(out / "duplicates.csv")
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    assert len(rows) == 5 and {r["class"] for r in rows} == {"a", "b"}
    data = json.loads((out / "audit.json").read_text())
    assert data["classes"]["a"] == {"train": 3, "val": 2, "test": 2}
    assert len(data["leaks"]) == 2 and data["images"] == 11


def test_planted_blank_blurred_and_tiny_images_are_flagged(tmp_path):
    files = planted_tree(tmp_path / "tree")
    out = tmp_path / "out"
    result = audit([tmp_path / "tree"], out, AuditOptions(workers=2), progress=False)
    flagged = {}
    for row in _rows(out / "flags.csv"):
        flagged.setdefault(row["path"], {})[row["flag"]] = float(row["value"])
    assert flagged[str(files["blank.png"])]["low_information"] == 0
    assert flagged[str(files["blurred.jpg"])]["blurry"] < 20
    assert flagged[str(files["tiny.png"])]["too_small"] == 30
    assert str(files["a/1"]) not in flagged and str(files["b/2"]) not in flagged
    assert len(result.groups) == 2 and all(len(leak.classes) == 2 for leak in result.leaks)


def test_grayscale_and_extreme_aspect_flags(tmp_path):
    root = tmp_path / "tree" / "c"
    root.mkdir(parents=True)
    for i in range(4):
        photo(i).save(root / f"{i}.jpg")
    photo(9).convert("L").save(root / "grey.jpg")
    photo(10, (600, 100)).save(root / "wide.jpg")
    result = audit([tmp_path / "tree"], tmp_path / "out", AuditOptions(workers=1),
                   progress=False)
    names = {(result.items[f.index].path.rsplit("/", 1)[1], f.name) for f in result.flags}
    assert ("grey.jpg", "grayscale") in names and ("wide.jpg", "extreme_aspect") in names
    assert not any(n.startswith(("0.", "1.", "2.", "3.")) for n, _ in names)


def test_the_command_writes_every_file_and_counts_the_manifest(tmp_path, capsys):
    gathered = tmp_path / "gathered"
    planted_tree(gathered / "images")
    (gathered / "manifest.jsonl").write_text(
        '{"url": "http://x/1", "label": "a", "status": "ok"}\n'
        '{"url": "http://x/2", "label": "a", "status": "http_404"}\n'
        '{"url": "http://x/2", "label": "a", "status": "ok"}\n'
        '{"url": "http://x/3", "label": "b", "status": "timeout"}\n{"cut')
    out = tmp_path / "report"
    assert main(["audit", str(gathered / "images"), "--out", str(out), "--quiet",
                 "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    assert "duplicate groups: 2" in printed and "leaks: 2 groups" in printed
    for name in ("audit.json", "duplicates.csv", "flags.csv", "report.html"):
        assert (out / name).is_file()
    data = json.loads((out / "audit.json").read_text())
    assert data["manifest_status"] == {"ok": 2, "timeout": 1}
    page = (out / "report.html").read_text()
    assert "<script" not in page and "http" not in page.replace("http_404", "")
    assert "timeout" in page and "Leaks: 2 groups" in page
    thumbs = list((out / "thumbs").iterdir())
    assert thumbs and all(f'src="thumbs/{t.name}"' in page for t in thumbs)


def test_the_mean_image_is_shown_when_given(tmp_path):
    planted_tree(tmp_path / "tree")
    photo(1, (72, 72)).save(tmp_path / "mean.png")
    out = tmp_path / "out"
    audit([tmp_path / "tree"], out, AuditOptions(mean=str(tmp_path / "mean.png")),
          progress=False)
    assert (out / "thumbs" / "mean.png").read_bytes() == (tmp_path / "mean.png").read_bytes()
    assert "src='thumbs/mean.png'" in (out / "report.html").read_text()


def test_bad_inputs_name_the_culprit(tmp_path, capsys):
    with pytest.raises(AuditError, match="no such folder or list file"):
        audit([tmp_path / "nothing"], tmp_path / "out", progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(AuditError, match="is not a folder"):
        audit([tmp_path], tmp_path / "file" / "out", progress=False)
    assert main(["audit", str(tmp_path), "--near", "40", "--out", str(tmp_path / "o")]) == 2
    assert "--near must be in -1..31" in capsys.readouterr().err
