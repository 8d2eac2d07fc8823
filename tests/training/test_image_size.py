"""Issue 13, item 4: the image size and resize mode come from one place, the mean's JSON.

`mlimages mean --size S --resize MODE` writes mean.npy and mean.json beside it; a run reads S
and MODE from there, `--size`/`--resize` may say them again, a crop larger than S is a
one-line error naming `--crop` and the mean file, a crop under half of S a warning.
"""

import json
import logging
import shutil
from pathlib import Path

import pytest

from mlimages import cli
from mlimages.mean import MeanOptions, mean_image
from mlimages.training.inputs import check_inputs, make_iterators
from mlimages.training.options import TrainError, TrainOptions
from mlimages.training.rundir import load_options, load_run
from mlimages.training.run import train

from trainutil import cli_args, make_dataset, options


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """3 classes x 4 images (9 train, 3 val); mean.npy/mean.json at 36 px, downscale."""
    return make_dataset(tmp_path_factory.mktemp("size"), per_class=4, size=36)


def make_mean(data, out, **changes):
    """`mlimages mean` of the train list with ``changes``; returns the .npy's path (str)."""
    mean_image(data["train"], data["root"], out, MeanOptions(workers=1, **changes),
               progress=False)
    return str(Path(out).with_suffix(".npy"))


def warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_crop_under_half_the_image_side_is_a_warning_item4(data, tmp_path, caplog):
    mean = make_mean(data, tmp_path / "m256.png", size=256)
    with caplog.at_level(logging.INFO):
        inputs = check_inputs(options(data, tmp_path / "out", mean=mean))   # small: crop 64
    said = [w for w in warnings(caplog) if "--crop 64" in w]
    assert len(said) == 1, warnings(caplog)
    assert "256" in said[0] and str(tmp_path / "m256.json") in said[0]
    assert "mlimages mean --size 72" in said[0]                            # what to do
    assert (inputs.opts.size, inputs.opts.resize) == (256, "downscale")
    assert not (tmp_path / "out").exists()


def test_a_crop_of_half_the_side_or_more_says_nothing_item4(data, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        check_inputs(options(data, tmp_path / "out", crop=32))             # 32 of 36
    assert not [w for w in warnings(caplog) if "--crop" in w]


def test_the_resize_mode_reaches_the_loaders_args_json_and_predict_item4(data, tmp_path):
    mean = make_mean(data, tmp_path / "squashed.png", size=36, resize="squash")
    opts = options(data, tmp_path / "out", mean=mean, crop=32, epoch=1)
    inputs = check_inputs(opts)
    train_iter, val_iter = make_iterators(inputs.opts, inputs.crop, inputs.mean)
    try:
        assert train_iter.options.resize == val_iter.options.resize == "squash"
    finally:
        train_iter.finalize()
        val_iter.finalize()
    train(opts, progress=False)
    record = json.loads((tmp_path / "out" / "args.json").read_text())
    assert record["resize"] == "squash"
    assert (record["options"]["size"], record["options"]["resize"]) == (36, "squash")
    assert load_run(tmp_path / "out").resize == "squash"                  # predict's
    assert load_options(tmp_path / "out").resize == "squash"               # --resume's


def test_a_size_flag_that_disagrees_with_the_mean_is_refused_item4(data, tmp_path):
    with pytest.raises(TrainError, match=r"--size 128 but .*mean\.json.* 36") as e:
        check_inputs(options(data, tmp_path / "out", size=128, crop=32))
    assert "\n" not in str(e.value) and "--size 36" in str(e.value)
    assert check_inputs(options(data, tmp_path / "out", size=36, crop=32)).opts.size == 36


def test_a_crop_larger_than_the_images_names_the_flag_and_the_mean_file_item4(data, tmp_path):
    json_file = str(Path(data["mean"]).with_suffix(".json"))
    with pytest.raises(TrainError, match=r"^--crop 227 \(the alex network's input\) is larger "
                                         r"than the 36-pixel images") as e:
        train(options(data, tmp_path / "out", arch="alex"), progress=False)
    assert json_file in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(TrainError, match=r"^--crop 64 is larger than the 36-pixel images"):
        train(options(data, tmp_path / "out", crop=64), progress=False)
    assert not (tmp_path / "out").exists()


def test_without_a_json_the_array_gives_the_size_and_the_flags_the_resize_item4(data, tmp_path,
                                                                               caplog):
    bare = tmp_path / "bare.npy"               # e.g. from Chainer's compute_mean.py
    shutil.copy(data["mean"], bare)
    with caplog.at_level(logging.INFO):
        found = check_inputs(options(data, tmp_path / "out", mean=str(bare), crop=32)).opts
    assert (found.size, found.resize) == (36, "downscale")
    assert any("no " + str(tmp_path / "bare.json") in r.getMessage() for r in caplog.records)
    given = check_inputs(options(data, tmp_path / "out", mean=str(bare), crop=32,
                                 resize="squash")).opts
    assert (given.size, given.resize) == (36, "squash")


def test_a_resize_flag_overrides_the_mean_with_a_warning_item4(data, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        found = check_inputs(options(data, tmp_path / "out", crop=32, resize="crop")).opts
    assert found.resize == "crop"
    said = [w for w in warnings(caplog) if "--resize crop" in w]
    assert len(said) == 1 and "downscale" in said[0], warnings(caplog)


def test_a_json_that_does_not_describe_its_npy_is_refused_item4(data, tmp_path):
    mean = make_mean(data, tmp_path / "m.png", size=36)
    info = json.loads(Path(mean).with_suffix(".json").read_text())
    Path(mean).with_suffix(".json").write_text(json.dumps(info | {"size": 48}))
    with pytest.raises(TrainError, match=r"m\.json says size 48 but .*m\.npy is 36x36"):
        check_inputs(options(data, tmp_path / "out", mean=mean, crop=32))
    Path(mean).with_suffix(".json").write_text("{not json")
    with pytest.raises(TrainError, match=r"cannot read .*m\.json"):
        check_inputs(options(data, tmp_path / "out", mean=mean, crop=32))


def test_size_and_resize_options_are_checked_item4():
    with pytest.raises(TrainError, match="size=0"):
        TrainOptions(train="t.txt", size=0)
    with pytest.raises(TrainError, match="resize='fit': choose one of downscale, crop, squash"):
        TrainOptions(train="t.txt", resize="fit")


def test_cli_has_size_and_resize_and_refuses_a_mismatch_in_one_line_item4(data, tmp_path,
                                                                          capsys):
    help_text = cli.build_parser("train")._subparsers._group_actions[0].choices["train"] \
        .format_help()
    assert "--size" in help_text and "--resize" in help_text
    args = cli_args(data, tmp_path / "out", "--size", "128", "--crop", "32")[3:]
    assert cli.main(args) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("mlimages train: error: --size 128"), err
