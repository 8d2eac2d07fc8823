"""Issue 12, items 4 and 14 (resume): a resume that fails leaves the run as it was, and a
damaged run folder or snapshot is a one-line error, never a traceback.

Every test resumes a copy of the session's finished run (``trained``: 2 epochs, snapshots at
iterations 4 and 6) through the real entry point.
"""

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mlimages import cli
from mlimages.predict import predict
from trainutil import dataset, trained  # noqa: F401 (fixtures)

RUN_FILES = ("args.json", "label_def.txt", "mean.npy", "model.npz", "log", "log.csv")


@pytest.fixture
def run(trained, tmp_path):
    """A copy of the finished run, safe to damage."""
    result, _ = trained
    copy = tmp_path / "run"
    shutil.copytree(result.out, copy)
    return copy


def files(folder):
    return {name: (folder / name).read_bytes() for name in RUN_FILES}


def resume_fails(capsys, argv, culprit):
    """``mlimages train ARGV``: status 2, one error line naming ``culprit``; returns it."""
    status = cli.main(["train", *argv, "--quiet"])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("mlimages train: error: "), err
    assert str(culprit) in lines[0], err
    return lines[0]


def an_image(data):
    return str(next(Path(data["root"]).rglob("*.jpg")))


# ------------------------------------------------------------------ item 4
def test_a_failed_resume_leaves_the_run_as_it_was_item4(trained, run, tmp_path, capsys):
    _, data = trained
    lists = tmp_path / "lists"
    lists.mkdir()
    shutil.copy(data["train"], lists / "train.txt")
    (lists / "label_def.txt").write_text("0 a\n1 b\n2 c\n3 d\n")   # another class count
    before = files(run)
    line = resume_fails(capsys, [str(lists / "train.txt"), "--resume", str(run)],
                        run / "snapshot_iter_6")
    assert "4 classes" in line
    assert files(run) == before                       # args.json, label_def.txt: untouched
    assert not list(run.glob("tmp*"))
    (prediction,) = predict(run, [an_image(data)])
    assert prediction.error is None and prediction.top


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_snapshot_is_one_line_and_names_an_earlier_one_item4(run, capsys, damage):
    snapshot = run / "snapshot_iter_6"
    data = snapshot.read_bytes()
    snapshot.write_bytes({"truncated": data[:len(data) // 2],
                          "garbage": b"\x80\x04garbage, not a zip" * 100,
                          "empty": b""}[damage])
    before = files(run)
    line = resume_fails(capsys, ["--resume", str(run)], snapshot)
    assert "snapshot_iter_4" in line                  # the way out: resume from the one before
    assert files(run) == before


def test_a_damaged_snapshot_named_directly_is_one_line_item4(run, capsys):
    snapshot = run / "snapshot_iter_4"
    snapshot.write_bytes(snapshot.read_bytes()[:1000])
    resume_fails(capsys, ["--resume", str(snapshot)], snapshot)


# ------------------------------------------------------------------ item 14 (resume side)
def edit_args(run, change):
    record = json.loads((run / "args.json").read_text())
    change(record)
    (run / "args.json").write_text(json.dumps(record))


@pytest.mark.parametrize("damage", ["not json", "a list", "no options", "options a string",
                                    "unknown key", "unknown finetune key", "epoch a string",
                                    "unknown arch"])
def test_a_damaged_args_json_is_one_line_on_resume_item14(run, capsys, damage):
    args = run / "args.json"
    if damage == "not json":
        args.write_text('{"options": {"train": ')
    elif damage == "a list":
        args.write_text("[1, 2]")
    else:
        edit_args(run, {
            "no options": lambda r: r.pop("options"),
            "options a string": lambda r: r.update(options="x"),
            "unknown key": lambda r: r["options"].update(colour="blue"),
            "unknown finetune key": lambda r: r["options"]["finetune"].update(colour="blue"),
            "epoch a string": lambda r: r["options"].update(epoch="ten"),
            "unknown arch": lambda r: r["options"].update(arch="vgg99"),
        }[damage])
    resume_fails(capsys, ["--resume", str(run)], args)


def run_with_own_mean(run, tmp_path, mean):
    """Point the run's args.json at a mean file of our own, holding ``mean`` (bytes)."""
    path = tmp_path / "own-mean.npy"
    path.write_bytes(mean)
    edit_args(run, lambda r: r["options"].update(mean=str(path)))
    return path


def test_a_junk_mean_is_one_line_on_resume_item14(run, tmp_path, capsys):
    path = run_with_own_mean(run, tmp_path, b"junk")
    resume_fails(capsys, ["--resume", str(run)], path)


def test_a_too_small_mean_is_one_line_on_resume_item14(run, tmp_path, capsys):
    small = np.zeros((3, 16, 16), np.float32)
    buffer = io.BytesIO()
    np.save(buffer, small)
    path = run_with_own_mean(run, tmp_path, buffer.getvalue())
    line = resume_fails(capsys, ["--resume", str(run)], path)
    assert "16" in line and "64" in line              # the mean's size and the crop


def test_a_truncated_model_npz_does_not_stop_a_resume_item14(run, capsys):
    # Resuming reads the snapshot, not model.npz; the run rewrites model.npz when it ends.
    model = run / "model.npz"
    whole = arrays(model)
    model.write_bytes(model.read_bytes()[:100])
    assert cli.main(["train", "--resume", str(run), "--quiet"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    again = arrays(model)                             # the same weights, written again
    assert sorted(again) == sorted(whole)
    assert all(np.array_equal(again[k], whole[k]) for k in whole)


def arrays(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}
