"""Issue 13, item 3 (mean): ``mean --out DIR`` writes DIR/mean.npy, mean.png, mean.json, as
every other command's --out is a folder; a .png/.npy file name still works as before."""

import json

import numpy as np
import pytest

from mlimages import cli, listfile
from mlimages.mean import MeanOptions, mean_image, output_paths



def run_mean(capsys, list_file, root, out):
    status = cli.main(["mean", str(list_file), "--root", str(root), "--out", out,
                       "--size", "16", "--workers", "1", "--quiet"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return captured.out


@pytest.mark.parametrize("given", ["m4/", "m4"])
def test_out_is_a_folder_item3(listed, tmp_path, capsys, monkeypatch, given):
    list_file, root = listed
    monkeypatch.chdir(tmp_path)
    printed = run_mean(capsys, list_file, root, given)
    assert sorted(p.name for p in (tmp_path / "m4").iterdir()) == ["mean.json", "mean.npy",
                                                                   "mean.png"]
    assert not list(tmp_path.glob("m4.*"))                       # nothing beside the folder
    assert np.load(tmp_path / "m4" / "mean.npy").shape == (3, 16, 16)
    assert json.loads((tmp_path / "m4" / "mean.json").read_text())["npy"] == "mean.npy"
    assert "m4/mean.npy" in printed


@pytest.mark.parametrize("name, stem", [("data/mean.png", "data/mean"),
                                        ("data/other.npy", "data/other")])
def test_a_png_or_npy_name_still_names_the_files_item3(listed, tmp_path, capsys, monkeypatch,
                                                       name, stem):
    list_file, root = listed
    monkeypatch.chdir(tmp_path)
    run_mean(capsys, list_file, root, name)
    for suffix in (".npy", ".png", ".json"):
        assert (tmp_path / (stem + suffix)).is_file()
    assert not (tmp_path / name).is_dir()


def test_the_default_is_the_current_folder_item3(listed, tmp_path, monkeypatch):
    list_file, root = listed
    monkeypatch.chdir(tmp_path)
    mean_image(list_file, root, opts=MeanOptions(size=8, workers=1), progress=False)
    assert all((tmp_path / f"mean{s}").is_file() for s in (".npy", ".png", ".json"))


def test_output_paths_of_both_forms_item3(tmp_path):
    lst = tmp_path / "train.txt"
    assert output_paths(tmp_path / "m4", lst)["npy"] == tmp_path / "m4" / "mean.npy"
    assert output_paths(str(tmp_path / "m4.png") + "/", lst)["png"] == \
        tmp_path / "m4.png" / "mean.png"                          # a slash: a folder
    assert output_paths(tmp_path / "m4.PNG", lst)["json"] == tmp_path / "m4.json"


def test_a_file_where_the_folder_should_be_is_one_line_item3(listed, tmp_path, capsys):
    list_file, root = listed
    (tmp_path / "taken").write_text("a file")
    status = cli.main(["mean", str(list_file), "--root", str(root), "--out",
                       str(tmp_path / "taken"), "--workers", "1", "--quiet"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2 and len(err) == 1 and str(tmp_path / "taken") in err[0], err


def test_help_documents_both_forms_item3():
    parser = cli.build_parser("mean")
    text = parser._subparsers._group_actions[0].choices["mean"].format_help()
    assert "DIR/mean.npy" in text and ".png" in text


def test_train_takes_the_mean_folder_item3(listed, tmp_path, capsys):
    from mlimages.training.inputs import check_inputs
    from mlimages.training.options import TrainOptions
    list_file, root = listed
    listfile.write_label_def(list_file.with_name("label_def.txt"), ["a", "b"])
    run_mean(capsys, list_file, root, str(tmp_path / "m4"))
    opts = TrainOptions(train=str(list_file), root=str(root), mean=str(tmp_path / "m4"),
                        arch="small", crop=16, out=str(tmp_path / "out"))
    assert check_inputs(opts).opts.size == 16
