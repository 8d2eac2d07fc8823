"""Tests for mlimages.training.run: a real Trainer on real files, with the `small` network.

The folder format alone (file names, reading back) is tested in test_rundir.py."""

import dataclasses
import importlib.util
import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlimages import cli
from mlimages._chainer import cupy_or_none
from mlimages.models.sizes import SizeError
from mlimages.training.caffe import caffe_modules
from mlimages.loader import RawBatch
from mlimages.training.device import GpuError, check_gpu
from mlimages.training.inputs import check_inputs, make_iterators
from mlimages.training.options import TrainError
from mlimages.training.run import TrainingDiverged, train
from mlimages.training.rundir import latest_snapshot, load_options

HAS_CUPY = importlib.util.find_spec("cupy") is not None
from trainutil import (cli_args, dataset, make_dataset, options,  # noqa: F401 (fixtures)
                       small_dataset, trained)


def npz(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def snapshots(out):
    return sorted(p.name for p in Path(out).glob("snapshot_iter_*"))


# ------------------------------------------------------------------ a finished run
def test_a_run_writes_everything_predict_needs(trained):
    result, data = trained
    out = result.out
    assert result.finished and not result.interrupted
    assert result.iteration == 6 and result.epoch == 2  # 18 images / batch 6, two epochs
    for name in ("model.npz", "label_def.txt", "mean.npy", "args.json", "log", "log.csv",
                 "loss.png", "accuracy.png"):
        assert (out / name).is_file(), name
    assert (out / "label_def.txt").read_text() == "0 checks\n1 rings\n2 stripes\n"
    assert np.array_equal(np.load(out / "mean.npy"), np.load(data["mean"]))
    record = json.loads((out / "args.json").read_text())
    assert record["crop"] == 64 and record["image_size"] == [72, 72] and record["n_classes"] == 3
    assert load_options(out).arch == "small"
    assert sorted(npz(out / "model.npz")) == sorted(
        f"{layer}/{p}" for layer in ("conv1", "conv2", "conv3", "fc4", "fc5") for p in "Wb")
    for png in ("loss.png", "accuracy.png"):
        assert Image.open(out / png).format == "PNG"


def test_two_epochs_lift_accuracy_clearly_above_chance(trained):
    result, _ = trained
    log = json.loads((result.out / "log").read_text())
    val = [e["validation/main/accuracy"] for e in log if "validation/main/accuracy" in e]
    assert len(val) == 2                      # one evaluation per epoch
    assert val[-1] >= 0.8                     # chance is 1/3
    assert log[-1]["main/loss"] < log[0]["main/loss"]


def test_log_json_and_csv_agree_every_iteration_and_epoch(trained):
    result, _ = trained
    log = json.loads((result.out / "log").read_text())
    rows = (result.out / "log.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert header[:4] == ["epoch", "iteration", "main/loss", "main/accuracy"]
    assert [e["iteration"] for e in log] == [1, 2, 3, 4, 5, 6]   # log_interval=1
    assert len(rows) == 1 + len(log)
    for entry, row in zip(log, rows[1:]):
        values = dict(zip(header, row.split(",")))
        assert int(values["iteration"]) == entry["iteration"]
        assert float(values["main/loss"]) == pytest.approx(entry["main/loss"], rel=1e-5)
        assert (values["validation/main/accuracy"] != "") == ("validation/main/accuracy" in entry)
    assert [e["lr"] for e in log][-1] == pytest.approx(0.01 * 0.97)  # one decay step


def test_only_the_last_k_snapshots_are_kept(trained):
    result, _ = trained
    # snapshot_interval=2 and every epoch (3, 6): 2, 3, 4, 6 were written; keep=2.
    assert snapshots(result.out) == ["snapshot_iter_4", "snapshot_iter_6"]
    assert sorted(p.name for p in result.out.glob("model_iter_*")) == [
        "model_iter_4.npz", "model_iter_6.npz"]
    assert result.snapshot == result.out / "snapshot_iter_6"
    assert latest_snapshot(result.out) == result.out / "snapshot_iter_6"
    final = npz(result.out / "model.npz")
    last = npz(result.out / "model_iter_6.npz")
    assert all(np.array_equal(final[k], last[k]) for k in final)


# ------------------------------------------------------------------ resume
def test_resume_gives_the_same_run_as_straight_through(small_dataset, tmp_path):
    straight = train(options(small_dataset, tmp_path / "a", crop=32), progress=False)
    half = train(options(small_dataset, tmp_path / "b", crop=32, epoch=1), progress=False)
    assert half.iteration == 3 and half.finished
    resumed = train(options(small_dataset, tmp_path / "b", crop=32), resume=tmp_path / "b",
                    progress=False)
    assert resumed.iteration == straight.iteration == 6
    a, b = npz(tmp_path / "a" / "model.npz"), npz(tmp_path / "b" / "model.npz")
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    log_a = json.loads((tmp_path / "a" / "log").read_text())
    log_b = json.loads((tmp_path / "b" / "log").read_text())
    assert [e["iteration"] for e in log_a] == [e["iteration"] for e in log_b]
    assert [e["main/loss"] for e in log_a] == [e["main/loss"] for e in log_b]


def test_cache_trains_exactly_as_decoding_then_needs_no_image_files(tmp_path):
    data = make_dataset(tmp_path / "data", size=36)
    cache = tmp_path / "cache"
    decoded = train(options(data, tmp_path / "a", crop=32, epoch=1), progress=False)
    filled = train(options(data, tmp_path / "b", crop=32, epoch=1, cache=str(cache)),
                   progress=False)
    for name in ("train", "val"):
        (state,) = cache.glob(f"{name}-*.state")
        assert np.fromfile(state, np.uint8).all(), name  # every image stored in epoch 1
    for image in Path(data["root"]).rglob("*.jpg"):
        image.unlink()  # from now on only the cache can deliver
    cached = train(options(data, tmp_path / "c", crop=32, epoch=1, cache=str(cache)),
                   progress=False)
    assert decoded.iteration == filled.iteration == cached.iteration == 3
    a, b, c = (npz(tmp_path / run / "model.npz") for run in "abc")
    for key in a:  # cached uint8 pixels are the decoded pixels: the same run, bit for bit
        assert np.array_equal(a[key], b[key]) and np.array_equal(a[key], c[key]), key
    assert load_options(tmp_path / "c").cache == str(cache)
    assert cached.last["validation/main/accuracy"] == decoded.last["validation/main/accuracy"]


def test_normalizing_on_the_device_trains_exactly_as_on_the_host(tmp_path):
    data = make_dataset(tmp_path / "data", size=36)
    opts = options(data, tmp_path / "b", crop=32, epoch=1, normalize_on_device=True)
    inputs = check_inputs(opts)
    loaders = make_iterators(inputs.opts, inputs.crop, inputs.mean)
    try:
        assert all(isinstance(next(loader), RawBatch) for loader in loaders)  # uint8 crops
    finally:
        for loader in loaders:
            loader.finalize()
    host = train(options(data, tmp_path / "a", crop=32, epoch=1), progress=False)
    device = train(opts, progress=False)
    assert host.iteration == device.iteration == 3
    a, b = npz(tmp_path / "a" / "model.npz"), npz(tmp_path / "b" / "model.npz")
    for key in a:  # the converter's subtraction on the device gives the host's numbers
        assert np.array_equal(a[key], b[key]), key
    assert load_options(tmp_path / "b").normalize_on_device
    assert device.last["validation/main/accuracy"] == host.last["validation/main/accuracy"]


def test_cli_cache_flag_is_saved_and_a_bad_cache_folder_is_a_clear_error(dataset, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    run = subprocess.run(cli_args(dataset, tmp_path / "out", "--epoch", "1",
                                  "--cache", str(not_a_folder)),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert "cannot use cache folder" in run.stderr and str(not_a_folder) in run.stderr
    assert "Traceback" not in run.stderr


def _wait_for_snapshot(proc, out, timeout=120):
    deadline = time.monotonic() + timeout
    while not snapshots(out):
        if proc.poll() is not None:
            pytest.fail(f"training ended (status {proc.returncode}) before its first "
                        f"snapshot: {proc.stdout.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no snapshot appeared")
        time.sleep(0.02)


def test_kill_9_then_resume_finishes_the_run(small_dataset, tmp_path):
    out = tmp_path / "out"
    args = cli_args(small_dataset, out, "--crop", "32", "--epoch", "4",
                    "--snapshot-interval", "2")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for_snapshot(proc, out)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "model.npz").exists()          # it never got to the end
    done = subprocess.run(cli_args(small_dataset, out)[:4] + ["--resume", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resumed from" in done.stderr
    log = json.loads((out / "log").read_text())
    assert log[-1]["iteration"] == 12 and log[-1]["epoch"] == 4   # 3 iterations x 4 epochs
    assert not list(out.glob("tmp*"))                # partial snapshot writes cleaned
    assert (out / "model.npz").is_file()


def test_ctrl_c_writes_a_snapshot_and_exits_130(small_dataset, tmp_path):
    out = tmp_path / "out"
    args = cli_args(small_dataset, out, "--crop", "32", "--epoch", "5",
                    "--snapshot-interval", "2")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for_snapshot(proc, out)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output
    assert "stopping after this iteration" in output
    iteration = int(latest_snapshot(out).name.rsplit("_", 1)[1])
    assert 2 <= iteration < 15
    log = json.loads((out / "log").read_text())
    assert log[-1]["iteration"] == iteration      # the snapshot is where it stopped
    assert (out / f"model_iter_{iteration}.npz").is_file() and (out / "model.npz").is_file()


class _StopAfter:
    """Stands in for a threading.Event that someone sets after ``n`` checks."""

    def __init__(self, n):
        self.n = n

    def is_set(self):
        self.n -= 1
        return self.n < 0


def test_a_stop_request_ends_with_a_snapshot(small_dataset, tmp_path):
    opts = options(small_dataset, tmp_path / "out", crop=32, snapshot_interval=100)
    result = train(opts, stop=_StopAfter(2), progress=False)
    assert result.interrupted and not result.finished
    assert result.iteration == 2        # the stop trigger is checked before each iteration
    assert snapshots(opts.out) == ["snapshot_iter_2"]
    assert (tmp_path / "out" / "model_iter_2.npz").is_file()


def test_a_caffe_mean_is_read_as_rgb(small_dataset, tmp_path):
    rgb = np.load(small_dataset["mean"])
    _, pb = caffe_modules()
    blob = pb.BlobProto()
    blob.shape.dim.extend((1,) + rgb.shape)
    blob.data.extend(rgb[::-1].ravel().tolist())              # Caffe stores BGR
    (tmp_path / "mean.binaryproto").write_bytes(blob.SerializeToString())
    opts = options(small_dataset, tmp_path / "out", crop=32, epoch=1,
                   mean=str(tmp_path / "mean.binaryproto"))
    train(opts, progress=False)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "mean.npy"), rgb)


# ------------------------------------------------------------------ failures
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_nan_loss_stops_keeping_the_last_good_snapshot(small_dataset, tmp_path):
    opts = options(small_dataset, tmp_path / "out", crop=32, lr=1e5, momentum=0.0,
                   snapshot_interval=1, epoch=5)
    with pytest.raises(TrainingDiverged) as e:
        train(opts, progress=False)
    kept = snapshots(opts.out)
    assert kept, "no good snapshot was kept"
    bad = int(str(e.value).split("at iteration ")[1].split()[0])
    assert int(kept[-1].rsplit("_", 1)[1]) == bad - 1
    assert str(opts.out) in str(e.value) and "Lower --lr" in str(e.value)
    assert not (tmp_path / "out" / "model.npz").exists()
    good = npz(Path(opts.out) / f"model_iter_{bad - 1}.npz")
    assert all(np.isfinite(v).all() for v in good.values())


def test_a_crop_that_does_not_fit_fails_before_anything_is_written(small_dataset, tmp_path):
    with pytest.raises(SizeError, match="does not fit small.*Nearest sizes that fit: 16 and 32"):
        train(options(small_dataset, tmp_path / "out", crop=30), progress=False)
    assert not (tmp_path / "out").exists()


def test_bad_inputs_name_the_file_and_the_fix(small_dataset, tmp_path):
    with pytest.raises(TrainError, match="no train list .*mlimages label"):
        train(options(small_dataset, tmp_path / "o", train=str(tmp_path / "x.txt")))
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "train.txt").write_text("checks/checks_0.jpg 7\n")
    (lists / "label_def.txt").write_text("0 a\n1 b\n")
    with pytest.raises(TrainError, match="label 7 but .* defines only 2 classes"):
        train(options(small_dataset, tmp_path / "o", train=str(lists / "train.txt"), val=None))
    (lists / "label_def.txt").unlink()
    with pytest.raises(TrainError, match="label_def.txt"):
        train(options(small_dataset, tmp_path / "o", train=str(lists / "train.txt"), val=None))
    (tmp_path / "mean.npy").write_bytes(b"junk")
    with pytest.raises(TrainError, match="cannot read the mean"):
        train(options(small_dataset, tmp_path / "o", mean=str(tmp_path / "mean.npy")))
    with pytest.raises(TrainError, match="--resume .*no such"):
        train(options(small_dataset, tmp_path / "o"), resume=tmp_path / "nothing")


def test_option_values_are_checked():
    with pytest.raises(TrainError, match="batchsize=0"):
        dataclasses.replace(options({"train": "t"}, "o"), batchsize=0)
    with pytest.raises(TrainError, match="lr=-1"):
        dataclasses.replace(options({"train": "t"}, "o"), lr=-1)


# ------------------------------------------------------------------ devices
@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here")
def test_gpu_without_cupy_says_what_to_install(small_dataset, tmp_path):
    with pytest.raises(GpuError) as e:
        train(options(small_dataset, tmp_path / "o", crop=32, gpu=0), progress=False)
    message = str(e.value)
    assert "CuPy is not installed" in message and "pip install cupy-cuda12x" in message and "mlimages[" not in message
    assert "cupy-cuda12x" in message and "cupy-cuda13x" in message
    assert not (tmp_path / "o").exists()


def check_train_runs(data, out, gpu):
    """One epoch on ``gpu`` (-1: CPU) ends with finite loss and the model on disk."""
    result = train(options(data, out, crop=32, epoch=1, gpu=gpu), progress=False)
    assert result.finished and np.isfinite(result.last["main/loss"])
    assert (Path(out) / "model.npz").is_file()
    return result


def test_train_cpu(small_dataset, tmp_path):
    assert check_gpu(-1).xp is np
    check_train_runs(small_dataset, tmp_path / "o", -1)


@pytest.mark.gpu
def test_train_gpu(small_dataset, tmp_path):
    if cupy_or_none() is None:
        pytest.skip("needs CuPy and a CUDA device")
    check_train_runs(small_dataset, tmp_path / "o", 0)


# ------------------------------------------------------------------ CLI
def test_cli_needs_a_list_or_resume(capsys):
    assert cli.main(["train", "--arch", "small"]) == 2
    assert "give the training list" in capsys.readouterr().err


def test_cli_resume_reads_args_json_and_takes_a_longer_epoch(small_dataset, tmp_path):
    out = tmp_path / "out"
    args = cli_args(small_dataset, out, "--crop", "32", "--epoch", "1")[3:]
    assert cli.main(args) == 0
    assert cli.main(["train", "--resume", str(out), "--epoch", "2", "--quiet"]) == 0
    log = json.loads((out / "log").read_text())
    assert log[-1]["iteration"] == 6 and load_options(out).epoch == 2
    assert load_options(out).crop == 32            # restored, not the default
    assert load_options(out).train == str(Path(small_dataset["train"]).absolute())


def test_resuming_with_another_class_count_is_a_clear_error(trained, tmp_path):
    result, data = trained
    label_def = tmp_path / "label_def.txt"
    label_def.write_text("0 a\n1 b\n2 c\n3 d\n")
    opts = options(data, tmp_path / "out", label_def=str(label_def))
    with pytest.raises(TrainError, match="cannot resume from .*snapshot_iter_6.*4 classes"):
        train(opts, resume=result.out, progress=False)
