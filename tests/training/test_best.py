"""Issue 13, item 2: the best model by a validation figure, and stopping when it stops improving.

Real runs of `small` (crop 32) on the tests' generated task. Two validation lists:
the true one (val_loss falls every epoch, val_acc reaches 1.0 at epoch 3 and stays) and a
mislabelled copy (every label shifted by one: the better the network learns, the worse its
figures, so the best epoch is the first and later epochs never improve on it).
"""

import json
import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mlimages import cli, listfile
from mlimages.training.options import TrainError
from mlimages.training.run import train
from mlimages.training.summary import summary
from trainutil import cli_args, options, small_dataset  # noqa: F401 (fixtures)

KEYS = {"val_loss": ("validation/main/loss", np.argmin),
        "val_acc": ("validation/main/accuracy", np.argmax)}


def mislabelled(data, folder):
    """``data`` with its validation list replaced by a copy whose labels are all wrong."""
    path = Path(folder) / "wrong_val.txt"
    listfile.write_list(path, [e._replace(label=(e.label + 1) % 3)
                               for e in listfile.read_list(data["val"])])
    return dict(data, val=str(path))


def epoch_figures(out, metric):
    """[(epoch, iteration, value)] of the validation figure ``metric`` in OUT/log."""
    key = KEYS[metric][0]
    log = json.loads((Path(out) / "log").read_text())
    return [(e["epoch"], e["iteration"], e[key]) for e in log if key in e]


def best_in_log(out, metric):
    """(epoch, iteration, value) of the first epoch with the best figure in the log."""
    figures = epoch_figures(out, metric)
    return figures[int(KEYS[metric][1]([v for *_, v in figures]))]


def arrays(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def same_arrays(a, b):
    a, b = arrays(a), arrays(b)
    return sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)


def run_options(data, out, **changes):
    """Only the per-epoch snapshots, all kept: model_iter_N.npz for every epoch."""
    return options(data, out, crop=32, snapshot_interval=1000, keep=20, **changes)


# ------------------------------------------------------------------ the best model
def test_best_model_is_the_epoch_with_the_best_val_loss_item2(small_dataset, tmp_path):
    data = mislabelled(small_dataset, tmp_path)
    out = tmp_path / "out"
    result = train(run_options(data, out, epoch=3), progress=False)
    epoch, iteration, value = best_in_log(out, "val_loss")
    assert (epoch, iteration) == (1, 3)            # the mislabelled list: the first epoch
    record = json.loads((out / "best.json").read_text())
    assert record["metric"] == "val_loss" and record["file"] == "model_best.npz"
    assert (record["epoch"], record["iteration"]) == (epoch, iteration)
    assert record["value"] == pytest.approx(value)
    assert same_arrays(out / "model_best.npz", out / f"model_iter_{iteration}.npz")
    assert not same_arrays(out / "model_best.npz", out / "model.npz")     # not the last
    assert json.loads((out / "args.json").read_text())["options"]["best"] == "val_loss"
    assert (result.best.epoch, result.best.metric) == (1, "val_loss")
    text = summary(result)
    assert "model_best.npz" in text and "val_loss" in text and "epoch 1" in text


def test_best_val_acc_is_the_first_epoch_of_the_highest_accuracy_item2(small_dataset,
                                                                       tmp_path, capsys):
    out = tmp_path / "out"
    argv = cli_args(small_dataset, out, "--crop", "32", "--epoch", "4", "--keep", "20",
                    "--snapshot-interval", "1000", "--best", "val_acc")[3:]
    assert cli.main(argv) == 0
    epoch, iteration, value = best_in_log(out, "val_acc")
    assert value == 1.0 and epoch < 4              # reached before the last epoch, then tied
    by_loss = best_in_log(out, "val_loss")
    assert by_loss[0] != epoch                     # the two figures choose different epochs
    record = json.loads((out / "best.json").read_text())
    assert (record["metric"], record["epoch"], record["value"]) == ("val_acc", epoch, 1.0)
    assert same_arrays(out / "model_best.npz", out / f"model_iter_{iteration}.npz")
    assert json.loads((out / "args.json").read_text())["options"]["best"] == "val_acc"
    assert f"val_acc 1 at epoch {epoch}" in capsys.readouterr().out


def test_without_a_validation_list_there_is_no_best_model_said_once_item2(small_dataset,
                                                                          tmp_path, caplog):
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO):
        result = train(run_options(small_dataset, out, epoch=2, val=None), progress=False)
    said = [r.getMessage() for r in caplog.records if "model_best.npz" in r.getMessage()]
    assert len(said) == 1 and "no validation list" in said[0], said
    assert not (out / "model_best.npz").exists() and not (out / "best.json").exists()
    assert result.best is None
    assert json.loads((out / "args.json").read_text())["options"]["best"] is None


def test_patience_without_a_validation_list_is_refused_first_item2(small_dataset, tmp_path):
    with pytest.raises(TrainError, match="--patience 2 needs a validation list"):
        train(run_options(small_dataset, tmp_path / "out", val=None, patience=2),
              progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("changes", [{"best": "val_accuracy"}, {"patience": 0}])
def test_best_and_patience_values_are_checked_item2(small_dataset, tmp_path, changes):
    with pytest.raises(TrainError, match=next(iter(changes))):
        run_options(small_dataset, tmp_path / "out", **changes)


# ------------------------------------------------------------------ patience
def test_patience_stops_early_with_a_snapshot_and_model_item2(small_dataset, tmp_path, capsys):
    data = mislabelled(small_dataset, tmp_path)
    out = tmp_path / "out"
    argv = cli_args(data, out, "--crop", "32", "--epoch", "10", "--keep", "20",
                    "--snapshot-interval", "1000", "--patience", "2")[3:]
    assert cli.main(argv) == 0                     # a planned stop, not an interruption
    printed = capsys.readouterr().out
    best_epoch = best_in_log(out, "val_loss")[0]
    figures = epoch_figures(out, "val_loss")
    assert figures[-1][0] == best_epoch + 2 < 10   # two epochs without improvement
    stop_iteration = figures[-1][1]
    assert (out / f"snapshot_iter_{stop_iteration}").is_file()
    assert same_arrays(out / "model.npz", out / f"model_iter_{stop_iteration}.npz")
    assert "val_loss did not improve for 2 epochs (--patience 2)" in printed
    assert json.loads((out / "args.json").read_text())["options"]["patience"] == 2


# ------------------------------------------------------------------ resume
def test_resume_keeps_the_best_so_far_item2(small_dataset, tmp_path):
    out = tmp_path / "out"
    train(run_options(small_dataset, out, epoch=2), progress=False)
    best_bytes = (out / "model_best.npz").read_bytes()
    record = (out / "best.json").read_text()
    assert json.loads(record)["epoch"] == 2
    # Resumed against the mislabelled list: every later epoch is worse than the best so far.
    worse = run_options(mislabelled(small_dataset, tmp_path), out, epoch=4)
    result = train(worse, resume=out, progress=False)
    assert result.iteration == 12
    assert [e for e, *_ in epoch_figures(out, "val_loss")] == [1, 2, 3, 4]
    assert (out / "model_best.npz").read_bytes() == best_bytes
    assert (out / "best.json").read_text() == record
    assert result.best.epoch == 2
    assert not same_arrays(out / "model_best.npz", out / "model.npz")


def test_patience_counts_on_across_a_resume_item2(small_dataset, tmp_path):
    data = mislabelled(small_dataset, tmp_path)
    out = tmp_path / "out"
    train(run_options(data, out, epoch=2), progress=False)    # epoch 2: one without improving
    result = train(run_options(data, out, epoch=10, patience=2), resume=out, progress=False)
    assert "(--patience 2)" in result.stopped and not result.interrupted
    assert result.epoch == 3                       # the count went on from the snapshot


def without_best_state(snapshot):
    """Rewrite a trainer snapshot as one made before the best model was kept."""
    with zipfile.ZipFile(snapshot) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    kept = {k: v for k, v in members.items() if not k.startswith("extensions/best/")}
    assert len(kept) < len(members)
    with zipfile.ZipFile(snapshot, "w") as z:
        for name, data in kept.items():
            z.writestr(name, data)


def test_a_snapshot_from_before_best_models_resumes_item2(small_dataset, tmp_path):
    out = tmp_path / "out"
    train(run_options(small_dataset, out, epoch=1), progress=False)
    without_best_state(out / "snapshot_iter_3")
    (out / "best.json").unlink()
    (out / "model_best.npz").unlink()
    result = train(run_options(small_dataset, out, epoch=2), resume=out, progress=False)
    assert result.iteration == 6 and result.best.epoch == 2     # tracked from the resume on
    assert (out / "model_best.npz").is_file()

