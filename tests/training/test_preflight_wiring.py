"""Issue 13, item 5 (the pre-flight check, wired into train) and issue 12, item 19
(``train --rewrite-prefix OLD=NEW`` for lists made on another machine).

The pre-flight itself (counting, the threshold, the hints) is tested in test_preflight.py;
here the scenarios of the issue run through ``train`` and the command line.
"""

import json
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlimages import cli, listfile
from mlimages.training.inputs import check_inputs
from mlimages.training.options import TrainError, TrainOptions
from mlimages.training.run import train
from mlimages.training.summary import summary

from conftest import write_image
from trainutil import cli_args, make_dataset, options


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """3 classes x 10 images at 36 px: 24 train, 6 val (one missing image is 4 % of train)."""
    return make_dataset(tmp_path_factory.mktemp("preflight"), per_class=10, size=36)


def copied(data, tmp_path):
    """A copy of ``data`` whose files a test may delete."""
    shutil.copytree(Path(data["root"]).parent, tmp_path / "data")
    return {k: str(tmp_path / "data" / Path(v).relative_to(Path(data["root"]).parent))
            for k, v in data.items()}


# ------------------------------------------------------------------ item 5
def test_a_wrong_root_is_one_line_at_once_without_warnings_item5(data, tmp_path):
    out = tmp_path / "out"
    args = cli_args(data, out, "--crop", "32")
    args[args.index("--root") + 1] = str(tmp_path / "nowhere")
    started = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - started
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr                          # no WARNING per image
    assert lines[0].startswith("mlimages train: error: ") and "24 of 24" in lines[0]
    assert f"--root {tmp_path / 'nowhere'} is not a folder" in lines[0]
    assert not out.exists() and seconds < 60


def _list_of_174_with_30_missing(data, tmp_path):
    root = tmp_path / "images"
    entries = []
    for i in range(174):
        entries.append(listfile.Entry(f"c{i % 3}/{i}.png", i % 3))
        if i >= 30:
            write_image(root / entries[-1].path, size=(40, 40), seed=i)
    lists = tmp_path / "lists"
    listfile.write_list(lists / "train.txt", entries)
    shutil.copy(Path(data["train"]).with_name("label_def.txt"), lists / "label_def.txt")
    return {"train": str(lists / "train.txt"), "val": None, "root": str(root),
            "mean": data["mean"]}


def test_thirty_of_174_missing_stop_the_run_before_it_writes_item5(data, tmp_path):
    many = _list_of_174_with_30_missing(data, tmp_path)
    with pytest.raises(TrainError, match=r"30 of 174 listed images are missing .*17\.2%.*"
                                         r"--max-missing 0\.05") as e:
        train(options(many, tmp_path / "out", crop=32), progress=False)
    assert "\n" not in str(e.value)
    assert not (tmp_path / "out").exists()


def test_max_missing_lets_them_through_with_a_warning_item5(data, tmp_path, caplog):
    many = _list_of_174_with_30_missing(data, tmp_path)
    with caplog.at_level(logging.WARNING):
        check_inputs(options(many, tmp_path / "out", crop=32, max_missing=0.2))
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("30 of 174 listed images are missing" in w and "skipped" in w for w in said)


def test_one_missing_image_is_a_warning_and_the_summary_counts_it_item5(data, tmp_path,
                                                                       caplog):
    mine = copied(data, tmp_path)
    gone = listfile.read_list(mine["train"])[5].path
    (Path(mine["root"]) / gone).unlink()
    with caplog.at_level(logging.WARNING):
        result = train(options(mine, tmp_path / "out", crop=32, epoch=1), progress=False)
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("1 of 24 listed images are missing" in w and gone in w for w in said), said
    assert result.finished
    assert [f.path for f in result.skipped] == [str(Path(mine["root"]) / gone)]
    text = summary(result)
    assert "skipped 1 unreadable image" in text and gone in text


def test_max_missing_is_a_fraction_item5(data, tmp_path):
    with pytest.raises(TrainError, match=r"max_missing=1\.5: a fraction in \[0, 1\]"):
        TrainOptions(train="t.txt", max_missing=1.5)
    args = cli_args(data, tmp_path / "out", "--crop", "32", "--max-missing", "0.5")
    parser = cli.build_parser("train")
    assert "--max-missing" in parser._subparsers._group_actions[0].choices["train"].format_help()
    assert parser.parse_args(args[3:]).max_missing == 0.5


# ------------------------------------------------------------------ issue 12, item 19
def _lists_from_elsewhere(data, tmp_path):
    """The train list as if made under /home/alice/data, the val list under /srv/bob/imgs."""
    lists = tmp_path / "elsewhere"
    lists.mkdir()
    for name, prefix in (("train", "/home/alice/data"), ("val", "/srv/bob/imgs")):
        entries = [listfile.Entry(f"{prefix}/{e.path}", e.label)
                   for e in listfile.read_list(data[name])]
        listfile.write_list(lists / f"{name}.txt", entries)
    shutil.copy(Path(data["train"]).with_name("label_def.txt"), lists / "label_def.txt")
    return {"train": str(lists / "train.txt"), "val": str(lists / "val.txt"),
            "root": str(tmp_path / "unused"), "mean": data["mean"]}


def test_rewrite_prefix_trains_on_lists_made_elsewhere_and_resumes_issue12_item19(data,
                                                                                 tmp_path):
    there, out, root = _lists_from_elsewhere(data, tmp_path), tmp_path / "out", data["root"]
    rules = ["--rewrite-prefix", f"/home/alice/data={root}",
             "--rewrite-prefix", f"/srv/bob/imgs={root}"]
    assert cli.main(cli_args(there, out, "--crop", "32", "--epoch", "1", *rules)[3:]) == 0
    trained_on = listfile.read_list(out / "lists" / "train.txt")
    assert trained_on == [listfile.Entry(f"{root}/{e.path}", e.label)
                          for e in listfile.read_list(data["train"])]
    assert listfile.read_list(out / "lists" / "val.txt")[0].path.startswith(root + "/")
    record = json.loads((out / "args.json").read_text())
    assert record["options"]["rewrite_prefix"] == [["/home/alice/data", root],
                                                   ["/srv/bob/imgs", root]]
    assert record["options"]["train"] == there["train"]          # the list as given
    assert cli.main(["train", "--resume", str(out), "--epoch", "2", "--quiet"]) == 0
    log = json.loads((out / "log").read_text())
    assert log[-1]["epoch"] == 2


def test_without_the_flag_the_error_suggests_it_issue12_item19(data, tmp_path, capsys):
    there = _lists_from_elsewhere(data, tmp_path)
    assert cli.main(cli_args(there, tmp_path / "out", "--crop", "32")[3:]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "--rewrite-prefix /home/alice/data=" in err[0], err


def test_a_rule_without_equals_is_one_line_naming_the_form_issue12_item19(data, tmp_path,
                                                                          capsys):
    there = _lists_from_elsewhere(data, tmp_path)
    args = cli_args(there, tmp_path / "out", "--crop", "32", "--rewrite-prefix", "/home/alice")
    assert cli.main(args[3:]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "expected OLD=NEW" in err[0] and "/home/alice" in err[0], err
    assert not (tmp_path / "out").exists()
