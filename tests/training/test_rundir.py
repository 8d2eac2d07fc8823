"""Tests for mlimages.training.rundir: a run folder's files, written and read back."""

import json
from pathlib import Path

import numpy as np
import pytest

from mlimages.mean import MeanError
from mlimages.training.options import FinetuneOptions, TrainError, TrainOptions
from mlimages.training.rundir import (RunDirError, latest_snapshot, latest_snapshot_or_none,
                                      load_options, load_run, remove_partial_snapshots,
                                      write_run_files)

NAMES = ["checks", "rings", "stripes"]


def started_run(tmp_path, ranks=1):
    """A run folder as a run leaves it when it starts (plus an empty model.npz)."""
    opts = TrainOptions(train="lists/train.txt", val="lists/val.txt", out=str(tmp_path / "out"),
                        arch="small", crop=32, finetune=FinetuneOptions(init_model="m.npz"))
    # At least the crop: a run folder whose mean is smaller than its crop is refused (issue 12).
    mean = np.arange(3 * 32 * 32, dtype=np.float32).reshape(3, 32, 32)
    write_run_files(opts, NAMES, mean, 32, ranks)
    (tmp_path / "out" / "model.npz").write_bytes(b"")
    return opts, mean, tmp_path / "out"


def test_what_a_run_writes_is_what_load_run_reads(tmp_path):
    opts, mean, out = started_run(tmp_path, ranks=2)
    run = load_run(out)
    assert (run.out, run.arch, run.names, run.crop, run.resize) == (out, "small", NAMES, 32,
                                                                    "downscale")
    assert run.mean.dtype == np.float32 and np.array_equal(run.mean, mean)
    assert run.model == out / "model.npz"
    record = json.loads((out / "args.json").read_text())
    assert record["image_size"] == [32, 32] and record["n_classes"] == 3
    assert record["ranks"] == 2 and record["effective_batchsize"] == 2 * opts.batchsize


def test_options_are_saved_with_absolute_paths(tmp_path):
    opts, _, out = started_run(tmp_path)
    loaded = load_options(out)
    assert loaded.arch == "small" and loaded.crop == 32
    assert loaded.train == str(Path("lists/train.txt").absolute())
    assert loaded.finetune.init_model == str(Path("m.npz").absolute())
    assert loaded.out == str(out.absolute())


def test_an_incomplete_folder_names_every_missing_file(tmp_path):
    _, _, out = started_run(tmp_path)
    (out / "model.npz").unlink()
    (out / "label_def.txt").unlink()
    with pytest.raises(RunDirError, match="missing label_def.txt, model.npz; give the --out"):
        load_run(out)


def test_unreadable_args_and_mean_name_the_file(tmp_path):
    _, _, out = started_run(tmp_path)
    (out / "mean.npy").write_bytes(b"junk")
    with pytest.raises(MeanError, match=f"cannot read the mean {out / 'mean.npy'}"):
        load_run(out)
    (out / "args.json").write_text("{")
    with pytest.raises(TrainError, match="cannot read .*args.json.*output folder"):
        load_options(out)
    with pytest.raises(RunDirError, match="args.json"):
        load_run(out)


def test_latest_snapshot_is_the_highest_iteration_not_the_last_name(tmp_path):
    for name in ("snapshot_iter_9", "snapshot_iter_10", "model_iter_99.npz", "snapshot_iter_x"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "tmpsnapshot_iter_11").mkdir()            # a killed write: a folder
    assert latest_snapshot(tmp_path) == tmp_path / "snapshot_iter_10"
    assert latest_snapshot(tmp_path / "snapshot_iter_9") == tmp_path / "snapshot_iter_9"
    remove_partial_snapshots(tmp_path)
    assert not (tmp_path / "tmpsnapshot_iter_11").exists()
    assert (tmp_path / "snapshot_iter_9").is_file()


def test_no_snapshot_is_a_clear_error_or_none(tmp_path):
    with pytest.raises(TrainError, match="--resume .*no snapshot_iter_N file"):
        latest_snapshot(tmp_path)
    with pytest.raises(TrainError, match="--resume .*no such snapshot file or output folder"):
        latest_snapshot(tmp_path / "nothing")
    assert latest_snapshot_or_none(tmp_path) is None
