"""Issue 13, item 3 (label): a label run leaves no file of an earlier run in --out that it did
not write itself, and says which it removed."""

from pathlib import Path

from mlimages import cli, listfile
from mlimages.label import LabelOptions, label_tree

from conftest import write_image


def label(capsys, root, out, *flags):
    assert cli.main(["label", str(root), "--out", str(out), "--quiet", *flags]) == 0
    return capsys.readouterr().out


def mean(capsys, list_file, root, out):
    assert cli.main(["mean", str(list_file), "--root", str(root), "--out", str(out),
                     "--size", "16", "--workers", "1", "--quiet"]) == 0
    capsys.readouterr()


def test_a_second_run_removes_the_files_of_the_first_it_does_not_write_item3(
        image_tree, tmp_path, capsys):
    out = tmp_path / "lists"
    (image_tree / "cat" / "broken.jpg").write_bytes(b"<html>gone</html>")
    label(capsys, image_tree, out, "--val", "0.25", "--test", "0.25", "--verify")
    (image_tree / "cat" / "broken.jpg").unlink()
    mean(capsys, out / "train.txt", image_tree, tmp_path / "m")     # train_used_in_mean.txt
    mean(capsys, out / "test.txt", image_tree, tmp_path / "t")      # test_used_in_mean.txt
    stale = [out / "test.txt", out / "rejects.txt", out / "train_used_in_mean.txt",
             out / "test_used_in_mean.txt"]
    assert all(p.is_file() for p in stale)

    printed = label(capsys, image_tree, out, "--val", "0.25")

    assert not [p for p in stale if p.exists()]
    assert sorted(p.name for p in out.iterdir()) == ["label_def.txt", "train.txt", "val.txt"]
    removed = [line for line in printed.splitlines() if line.startswith("removed ")]
    assert len(removed) == 1, printed
    for path in stale:
        assert str(path) in removed[0]
    listed = {e.path for name in ("train", "val") for e in listfile.read_list(out / f"{name}.txt")}
    assert len(listed) == 12                    # every image once, none in a stale test.txt


def test_a_first_run_removes_nothing_and_says_nothing_item3(image_tree, tmp_path, capsys):
    printed = label(capsys, image_tree, tmp_path / "lists", "--val", "0.25")
    assert "removed" not in printed


def test_the_result_names_the_removed_files_item3(image_tree, tmp_path):
    out = tmp_path / "lists"
    label_tree(image_tree, out, LabelOptions(val=0.25, test=0.25), progress=False)
    result = label_tree(image_tree, out, LabelOptions(val=0.25), progress=False)
    assert result.removed == [out / "test.txt"]
    assert out / "test.txt" not in result.written


def test_append_keeps_the_lists_it_adds_to_and_the_others_item3(image_tree, tmp_path, capsys):
    out = tmp_path / "lists"
    label(capsys, image_tree, out, "--val", "0.25", "--test", "0.25")
    more = tmp_path / "more"
    write_image(more / "cat" / "extra.jpg", seed=99)
    mean(capsys, out / "train.txt", image_tree, tmp_path / "m")
    printed = label(capsys, more, out, "--append")
    assert (out / "test.txt").is_file() and (out / "val.txt").is_file()
    # train.txt grew: the mean's record of it no longer describes it
    assert not (out / "train_used_in_mean.txt").exists()
    assert "removed " + str(out / "train_used_in_mean.txt") in printed


def test_a_folder_named_like_a_stale_file_is_left_alone_item3(image_tree, tmp_path):
    out = tmp_path / "lists"
    (out / "test.txt").mkdir(parents=True)
    result = label_tree(image_tree, out, LabelOptions(val=0.25), progress=False)
    assert (out / "test.txt").is_dir() and result.removed == []
    assert Path(out / "train.txt").is_file()
