import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import assert_is_label_list, write_image
from mlimages import listfile
from mlimages.label import LabelError, LabelOptions, label_tree


def _messy_tree(root):
    """Good images of every colour mode, bad files, hidden files, a space in a
    name, an empty class, a nested folder and a non-image."""
    modes = ["RGB", "L", "RGBA", "P", "CMYK", "I;16", "LA", "1"]
    for i, mode in enumerate(modes):
        fmt = "JPEG" if mode in ("RGB", "L", "CMYK") else "PNG"
        ext = ".jpg" if fmt == "JPEG" else ".png"
        write_image(root / "apple" / f"a_{i}{ext}", mode=mode, fmt=fmt, seed=i)
        write_image(root / "banana" / f"b_{i}.jpg", seed=100 + i)
        write_image(root / "cherry" / f"c_{i}.png", mode="RGBA", seed=200 + i)
    write_image(root / "banana" / "with space.jpg", seed=7)
    write_image(root / "cherry" / "deeper" / "nested.jpg", seed=8)
    (root / "apple" / "empty.jpg").write_bytes(b"")
    (root / "apple" / "page.jpg").write_bytes(b"<html><body>404</body></html>")
    good = (root / "banana" / "b_0.jpg").read_bytes()
    (root / "banana" / "cut.jpg").write_bytes(good[: len(good) // 2])
    (root / "banana" / "notes.txt").write_text("not an image")
    (root / ".ipynb_checkpoints").mkdir()
    write_image(root / ".ipynb_checkpoints" / "x.jpg")
    write_image(root / "apple" / ".hidden.jpg")
    (root / "durian").mkdir()          # empty class
    write_image(root / "loose.jpg")    # loose image in ROOT: no class by default


def test_messy_tree_loads_in_chainers_labeled_image_dataset(tmp_path):
    from mlimages._chainer import chainer
    root, out = tmp_path / "images", tmp_path / "lists"
    _messy_tree(root)
    result = label_tree(root, out, LabelOptions(val=0.25, seed=1, verify=True), progress=False)

    assert listfile.read_label_def(out / "label_def.txt") == ["apple", "banana", "cherry"]
    assert result.empty_classes == ["durian"]
    rejected = dict(line.split("\t") for line in (out / "rejects.txt").read_text().splitlines())
    assert set(rejected) == {"apple/empty.jpg", "apple/page.jpg", "banana/cut.jpg"}
    assert rejected["apple/empty.jpg"].startswith("empty")
    assert rejected["banana/cut.jpg"].startswith("truncated")
    entries = {}
    for split in ("train", "val"):
        entries[split] = assert_is_label_list(out / f"{split}.txt", root, n_classes=3)
    every = [e.path for s in entries.values() for e in s]
    assert "cherry/deeper/nested.jpg" in every
    assert not [p for p in every if ".ipynb" in p or ".hidden" in p or p.endswith(".txt")]
    assert "loose.jpg" not in every
    assert result.spaced_paths == ["banana/with space.jpg"]
    # stratified: a quarter of each class (rounded) goes to val
    per_class = Counter(e.label for e in entries["val"])
    assert per_class == {0: 2, 1: 2, 2: 2}

    clean = tmp_path / "clean.txt"
    clean.write_text("".join(line for line in (out / "train.txt").read_text().splitlines(True)
                             if " " not in line.rsplit(" ", 1)[0]))
    dataset = chainer.datasets.LabeledImageDataset(str(clean), root=str(root))
    assert len(dataset) == len(entries["train"]) - 1
    for i in range(len(dataset)):
        image, label = dataset[i]
        assert image.ndim == 3 and image.dtype == np.float32 and 0 <= label < 3


def test_split_is_reproducible_and_seed_dependent(tmp_path, image_tree):
    def run(seed, out):
        label_tree(image_tree, tmp_path / out, LabelOptions(val=0.5, seed=seed), progress=False)
        return (tmp_path / out / "val.txt").read_text()
    assert run(3, "a") == run(3, "b")
    assert any(run(s, f"c{s}") != run(3, "a") for s in range(4, 10))


def test_test_split_and_shuffle(tmp_path, image_tree):
    out = tmp_path / "lists"
    label_tree(image_tree, out, LabelOptions(val=0.25, test=0.25, shuffle=True, seed=0), progress=False)
    lists = {s: listfile.read_list(out / f"{s}.txt") for s in ("train", "val", "test")}
    assert [len(v) for v in lists.values()] == [6, 3, 3]
    paths = [e.path for v in lists.values() for e in v]
    assert len(set(paths)) == 12


def test_nested_split_classes_and_loose_class(tmp_path):
    root = tmp_path / "images"
    write_image(root / "a" / "x.jpg")
    write_image(root / "a" / "b" / "y.jpg")
    write_image(root / "z.jpg")
    result = label_tree(root, tmp_path / "o", LabelOptions(nested="split", loose_class="misc"),
                        progress=False)
    assert result.classes == ["a", "a/b", "misc"]
    assert sorted(listfile.read_list(tmp_path / "o" / "train.txt")) == [
        ("a/b/y.jpg", 1), ("a/x.jpg", 0), ("z.jpg", 2)]


def test_fixed_label_and_append(tmp_path, image_tree):
    out = tmp_path / "lists"
    label_tree(image_tree, out, progress=False)
    extra = tmp_path / "extra"
    write_image(extra / "one.jpg")
    write_image(extra / "sub" / "two.jpg")
    label_tree(extra, out, LabelOptions(label=7, append=True, path_root=tmp_path), progress=False)
    entries = listfile.read_list(out / "train.txt")
    assert len(entries) == 14
    assert entries[-2:] == [("extra/one.jpg", 7), ("extra/sub/two.jpg", 7)]
    assert listfile.read_label_def(out / "label_def.txt") == ["bird", "cat", "dog"]


def test_append_extends_label_def_keeping_old_indices(tmp_path, image_tree):
    out = tmp_path / "lists"
    label_tree(image_tree, out, progress=False)
    more = tmp_path / "more"
    write_image(more / "ant" / "1.jpg")
    write_image(more / "cat" / "2.jpg")
    label_tree(more, out, LabelOptions(append=True), progress=False)
    assert listfile.read_label_def(out / "label_def.txt") == ["bird", "cat", "dog", "ant"]
    assert listfile.read_list(out / "train.txt")[-2:] == [("ant/1.jpg", 3), ("cat/2.jpg", 1)]


def test_symlink_loop_and_followed_links(tmp_path):
    root = tmp_path / "images"
    write_image(root / "a" / "x.jpg")
    os.symlink(root / "a", root / "a" / "loop")
    os.symlink(root / "a", root / "b")
    result = label_tree(root, tmp_path / "o", LabelOptions(follow_links=True), progress=False)
    assert sum(len(v) for v in result.splits.values()) == 1
    result = label_tree(root, tmp_path / "o2", progress=False)
    assert result.classes == ["a"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable folders")
def test_unreadable_folder_is_reported(tmp_path):
    root = tmp_path / "images"
    write_image(root / "a" / "x.jpg")
    write_image(root / "a" / "locked" / "y.jpg")
    (root / "a" / "locked").chmod(0)
    try:
        result = label_tree(root, tmp_path / "o", progress=False)
    finally:
        (root / "a" / "locked").chmod(0o755)
    assert any("unreadable_folder" in r for _, r in result.rejects)


def test_non_utf8_file_names(tmp_path):
    root = tmp_path / "images"
    (root / "a").mkdir(parents=True)
    name = os.fsdecode(b"caf\xe9.jpg")
    write_image(root / "a" / name)
    label_tree(root, tmp_path / "o", LabelOptions(verify=True), progress=False)
    (entry,) = listfile.read_list(tmp_path / "o" / "train.txt")
    assert (root / entry.path).is_file()


def test_stale_rejects_file_is_removed(tmp_path, image_tree):
    out = tmp_path / "lists"
    out.mkdir()
    (out / "rejects.txt").write_text("old\tstale\n")
    label_tree(image_tree, out, LabelOptions(verify=True), progress=False)
    assert not (out / "rejects.txt").exists()


@pytest.mark.parametrize("opts, message", [
    (LabelOptions(val=0.6, test=0.5), "must leave images"),
    (LabelOptions(val=1.5), "fraction"),
    (LabelOptions(nested="deep"), "nested"),
])
def test_bad_options(tmp_path, image_tree, opts, message):
    with pytest.raises(LabelError, match=message):
        label_tree(image_tree, tmp_path / "o", opts, progress=False)


def test_missing_or_empty_root(tmp_path):
    with pytest.raises(LabelError, match="does not exist"):
        label_tree(tmp_path / "nope", tmp_path / "o")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(LabelError, match="found no image"):
        label_tree(tmp_path / "empty", tmp_path / "o")


def _cli(*args, cwd=None):
    exe = Path(sys.executable).with_name("mlimages")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlimages"]
    return subprocess.run(command + list(args), capture_output=True, text=True, cwd=cwd)


def test_cli_label_prints_summary_and_warns_about_spaces(tmp_path, image_tree):
    write_image(image_tree / "cat" / "a b.jpg")
    out = tmp_path / "lists"
    proc = _cli("label", str(image_tree), "--out", str(out), "--val", "0.25", "--seed", "1",
                "--verify", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "cat" in proc.stdout and "total" in proc.stdout and "rejected: 0" in proc.stdout
    assert "1 paths contain whitespace" in proc.stderr and "cat/a b.jpg" in proc.stderr
    assert (out / "val.txt").exists()


def test_cli_errors_are_one_line_with_status_2(tmp_path):
    proc = _cli("label", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("mlimages label: error:") and "nope" in proc.stderr
    proc = _cli("label", str(tmp_path), "--out", str(tmp_path / "o"), "--val", "2")
    assert proc.returncode == 2 and "fraction" in proc.stderr


# --- issue 12 -----------------------------------------------------------------------------


def test_hash_class_folder_round_trips_through_the_list_item5(tmp_path):
    root, out = tmp_path / "images", tmp_path / "lists"
    write_image(root / "#tag" / "x.jpg")
    write_image(root / "#tag" / "#y.jpg", seed=1)
    write_image(root / "cat" / "z.jpg", seed=2)
    result = label_tree(root, out, progress=False)
    assert result.classes == ["#tag", "cat"]
    entries = assert_is_label_list(out / "train.txt", root, n_classes=2)
    assert sorted(e.label for e in entries) == [0, 0, 1]  # every counted image is listed
    assert {os.path.normpath(e.path) for e in entries} == {"#tag/x.jpg", "#tag/#y.jpg", "cat/z.jpg"}


def test_newline_in_a_file_name_is_a_reject_not_an_entry_item5(tmp_path):
    root, out = tmp_path / "images", tmp_path / "lists"
    write_image(root / "a" / "good.jpg")
    write_image(root / "a" / "p.jpg 0\nq.jpg", seed=1)
    write_image(root / "b" / "only\r.jpg", seed=2)
    write_image(root / "c" / "c.jpg", seed=3)
    result = label_tree(root, out, LabelOptions(verify=True), progress=False)
    assert listfile.read_list(out / "train.txt") == [("a/good.jpg", 0), ("c/c.jpg", 1)]
    assert result.classes == ["a", "c"] and result.empty_classes == ["b"]
    rejects = (out / "rejects.txt").read_text().splitlines()
    assert len(rejects) == 2 and all("line break" in r and "rename" in r for r in rejects)
    assert any(r.startswith("a/p.jpg 0\\nq.jpg\t") for r in rejects), rejects


def test_scan_bomb_is_rejected_by_verify_item3(tmp_path):
    from bombs import scan_bomb
    root, out = tmp_path / "images", tmp_path / "lists"
    write_image(root / "a" / "good.jpg")
    (root / "a" / "bomb.jpg").write_bytes(scan_bomb(256, 1000))
    label_tree(root, out, LabelOptions(verify=True), progress=False)
    assert listfile.read_list(out / "train.txt") == [("a/good.jpg", 0)]
    (reject,) = (out / "rejects.txt").read_text().splitlines()
    assert reject.startswith("a/bomb.jpg\ttoo_complex")


@pytest.mark.parametrize("make", ["file", "file_parent", "list_is_folder"])
def test_out_that_cannot_be_written_is_refused_before_any_work_item13(tmp_path, image_tree,
                                                                      monkeypatch, make):
    import mlimages.label.tree as tree
    monkeypatch.setattr(tree, "_collect", lambda *a: pytest.fail("scanned before checking --out"))
    out = tmp_path / "lists"
    if make == "file":
        out.write_text("not a folder")
        culprit = out
    elif make == "file_parent":
        (tmp_path / "f").write_text("a file")
        out = culprit = tmp_path / "f"
        out = out / "lists"
    else:
        (out / "train.txt").mkdir(parents=True)
        culprit = out / "train.txt"
    with pytest.raises(LabelError) as info:
        label_tree(image_tree, out, progress=False)
    assert str(culprit) in str(info.value) and "--out" in str(info.value)


def test_cli_out_is_a_file_is_one_line_item13(tmp_path, image_tree):
    out = tmp_path / "lists"
    out.write_text("not a folder")
    proc = _cli("label", str(image_tree), "--out", str(out), "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and str(out) in proc.stderr
    assert "Traceback" not in proc.stderr
