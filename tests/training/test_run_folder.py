"""Issue 13, item 3 (train's half): a run folder cannot mix runs, and it says which model is
current.

* ``train --out DIR`` where DIR holds a run is refused before any work, unless ``--resume DIR``
  or ``--overwrite`` (which removes the old run's files, and only those, first);
* ``current.json`` names the model file written last (``model_iter_N.npz`` or ``model.npz``), so
  that a killed run's old ``model.npz`` is never taken for its newest model; a folder whose
  newest model file is not the one it names is refused, naming the newest.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from mlimages import cli
from mlimages.predict import PredictError, predict
from mlimages.training.rundir import latest_snapshot, load_run
from mlimages.training.run import train
from trainutil import cli_args, dataset, options, small_dataset, trained  # noqa: F401


def argv(data, out, *extra):
    return cli_args(data, out, "--crop", "32", "--epoch", "1", *extra)[3:]


def contents(folder):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in Path(folder).iterdir() if p.is_file()}


def one_line_error(capsys, args, *needles):
    status = cli.main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert len(lines) == 1 and lines[0].startswith(f"mlimages {args[0]}: error: "), err
    for needle in needles:
        assert str(needle) in lines[0], err
    return lines[0]


def an_image(data):
    return str(next(Path(data["root"]).rglob("*.jpg")))


@pytest.fixture
def old_run(small_dataset, tmp_path):
    """A finished run with snapshots at every iteration (1..6) and a file of the user's."""
    out = tmp_path / "out"
    train(options(small_dataset, out, crop=32, snapshot_interval=1, keep=20), progress=False)
    (out / "notes.txt").write_text("mine")
    return out


# ------------------------------------------------------------------ a folder holding a run
def test_train_into_a_folder_holding_a_run_is_refused_first_item3(small_dataset, old_run,
                                                                    capsys):
    before = contents(old_run)
    line = one_line_error(capsys, argv(small_dataset, old_run), old_run,
                          f"--resume {old_run}", "--overwrite", "already holds a run")
    assert "args.json" in line
    assert contents(old_run) == before                       # not a byte, not a time stamp


@pytest.mark.parametrize("leftover", ["snapshot_iter_7", "model_iter_7.npz", "args.json",
                                      "model.npz", "model_best.npz", "log"])
def test_any_file_a_run_writes_marks_a_run_folder_item3(small_dataset, tmp_path, capsys,
                                                         leftover):
    out = tmp_path / "out"
    out.mkdir()
    (out / leftover).write_bytes(b"old")
    one_line_error(capsys, argv(small_dataset, out), out, leftover)
    assert (out / leftover).read_bytes() == b"old"


def test_a_folder_of_other_files_is_not_a_run_item3(small_dataset, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert cli.main(argv(small_dataset, out)) == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "model.npz").is_file()


def test_overwrite_removes_the_old_runs_files_first_item3(small_dataset, old_run, caplog):
    assert (old_run / "snapshot_iter_5").is_file()
    assert cli.main(argv(small_dataset, old_run, "--overwrite")) == 0   # 1 epoch: 3 iterations
    said = [r.getMessage() for r in caplog.records if "--overwrite" in r.getMessage()]
    assert len(said) == 1 and "removed" in said[0] and "snapshot_iter_5" in said[0], said
    assert "notes.txt" not in said[0]
    assert sorted(p.name for p in old_run.glob("snapshot_iter_*")) == ["snapshot_iter_3"]
    assert not (old_run / "model_iter_6.npz").exists()
    assert (old_run / "notes.txt").read_text() == "mine"                # not the run's: kept
    log = json.loads((old_run / "log").read_text())
    assert log[-1]["iteration"] == 3
    # The advice the run ends with works: --resume continues this run, not the old one.
    assert latest_snapshot(old_run) == old_run / "snapshot_iter_3"
    assert cli.main(["train", "--resume", str(old_run), "--epoch", "2", "--quiet"]) == 0
    assert json.loads((old_run / "log").read_text())[-1]["iteration"] == 6


def test_overwrite_of_the_folder_being_resumed_is_refused_item3(small_dataset, old_run, capsys):
    before = contents(old_run)
    one_line_error(capsys, ["train", "--resume", str(old_run), "--overwrite", "--quiet"],
                   "--overwrite", "--resume")
    assert contents(old_run) == before


def test_resume_from_another_run_into_a_run_folder_is_refused_item3(small_dataset, old_run,
                                                                     tmp_path, capsys):
    other = tmp_path / "other"
    train(options(small_dataset, other, crop=32, epoch=1), progress=False)
    before = contents(other)
    one_line_error(capsys, ["train", "--resume", str(old_run), "--out", str(other),
                            "--epoch", "3", "--quiet"], other, "already holds a run")
    assert contents(other) == before


# ------------------------------------------------------------------ the current model
def test_current_json_names_the_model_written_last_item3(trained):
    result, _ = trained
    current = json.loads((result.out / "current.json").read_text())
    assert (current["model"], current["iteration"]) == ("model.npz", 6)
    assert load_run(result.out, model="last").model == result.out / "model.npz"


def model_iters(out):
    return sorted((int(p.name[len("model_iter_"):-len(".npz")]), p)
                  for p in Path(out).glob("model_iter_*.npz"))


def wait_for_current_model_iter(proc, out, at_least, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        try:
            current = json.loads((out / "current.json").read_text())
        except (OSError, ValueError):
            current = {}
        if current.get("model", "").startswith("model_iter_") and \
                current["iteration"] >= at_least:
            return
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no model_iter_N >= {at_least} became current: {proc.stderr.read()}")
        time.sleep(0.02)


def test_after_a_kill_the_newest_model_is_used_not_an_old_model_npz_item3(small_dataset,
                                                                          tmp_path):
    out = tmp_path / "out"
    train(options(small_dataset, out, crop=32, epoch=1, keep=20), progress=False)  # model.npz: 3
    resume = cli_args(small_dataset, out)[:4] + ["--resume", str(out), "--epoch", "50",
                                                 "--snapshot-interval", "1", "--quiet"]
    proc = subprocess.Popen(resume, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for_current_model_iter(proc, out, at_least=5)
    proc.send_signal(signal.SIGKILL)                 # no model.npz at the end this time
    proc.wait(timeout=30)
    current = json.loads((out / "current.json").read_text())
    newest_iteration, newest = model_iters(out)[-1]
    images = [an_image(small_dataset)]
    if current["iteration"] == newest_iteration:
        run = load_run(out, model="last")
        assert run.model == newest and newest_iteration > 3
        last = predict(out, images, model="last")
        assert last == predict(out, images, model=str(newest))
        assert last != predict(out, images, model=str(out / "model.npz"))   # the old one
    else:  # killed between writing the newest model file and naming it: refused
        with pytest.raises(PredictError, match=f"{newest.name} is newer"):
            predict(out, images, model="last")


def copy_files(source, target, leave_out=()):
    """Copy the files of ``source`` as ``cp`` does: new file times."""
    target.mkdir()
    for p in source.iterdir():
        if p.is_file() and p.name not in leave_out:
            (target / p.name).write_bytes(p.read_bytes())
    return target


def test_a_copied_run_folder_keeps_its_current_model_item3(trained, tmp_path):
    result, _ = trained
    run = copy_files(result.out, tmp_path / "run")
    later = (run / "model.npz").stat().st_mtime + 10
    os.utime(run / "model_iter_6.npz", (later, later))       # copied after model.npz
    assert load_run(run, model="last").model == run / "model.npz"


def test_a_model_file_of_a_later_iteration_than_the_current_one_is_refused_item3(
        trained, tmp_path, capsys):
    result, data = trained
    run = copy_files(result.out, tmp_path / "run")
    # As a run killed after writing model_iter_9.npz, before naming it in current.json.
    (run / "model_iter_9.npz").write_bytes((run / "model_iter_6.npz").read_bytes())
    line = one_line_error(capsys, ["predict", str(run), an_image(data), "--model", "last"],
                          run / "current.json", "model_iter_9.npz is newer (iteration 9")
    assert f"--model {run / 'model_iter_9.npz'}" in line
    assert f"--model {run / 'model.npz'}" in line


def test_without_current_json_the_newest_model_file_decides_item3(trained, tmp_path, capsys):
    result, data = trained
    run = copy_files(result.out, tmp_path / "run",                 # a run from before
                     leave_out=("current.json", "best.json", "model_best.npz"))
    now = time.time()
    for age, name in enumerate(("model.npz", "model_iter_6.npz", "model_iter_4.npz")):
        os.utime(run / name, (now - age, now - age))
    assert load_run(run).model == run / "model.npz"           # the newest: it is used
    os.utime(run / "model_iter_6.npz", (now + 5, now + 5))
    line = one_line_error(capsys, ["predict", str(run), an_image(data)],
                          "model_iter_6.npz is newer than model.npz")
    assert str(run / "model_iter_6.npz") in line
    outputs = [np.asarray([g.prob for g in p.top]) for p in
               predict(run, [an_image(data)], model=str(run / "model_iter_6.npz"))]
    assert outputs[0].sum() == pytest.approx(1, abs=1e-5)     # the named file is usable
