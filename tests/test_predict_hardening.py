"""Issue 12, item 14 (predict side): a damaged run folder is a one-line error naming the file.

Each test damages a copy of the session's finished run (``trained``) and runs the real entry
point: status 2, one line ``mlimages predict: error: ...``, no traceback.
"""

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mlimages import cli
from mlimages._chainer import chainer
from mlimages.models import build_classifier
from trainutil import dataset, trained  # noqa: F401 (fixtures)


@pytest.fixture
def run(trained, tmp_path):
    result, _ = trained
    copy = tmp_path / "run"
    shutil.copytree(result.out, copy)
    return copy


@pytest.fixture
def image(trained):
    _, data = trained
    return str(next(Path(data["root"]).rglob("*.jpg")))


def predict_fails(capsys, run, image, culprit, *extra):
    status = cli.main(["predict", str(run), image, *extra])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("mlimages predict: error: "), err
    assert str(culprit) in lines[0], err
    return lines[0]


def edit_args(run, change):
    record = json.loads((run / "args.json").read_text())
    change(record)
    (run / "args.json").write_text(json.dumps(record))


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", ["not json", "a list", "no options", "options a string",
                                    "unknown key", "unknown arch", "crop a string",
                                    "no crop", "unknown resize"])
def test_a_damaged_args_json_is_one_line_item14(run, image, capsys, damage):
    args = run / "args.json"
    if damage == "not json":
        args.write_text("{")
    elif damage == "a list":
        args.write_text("[]")
    else:
        edit_args(run, {
            "no options": lambda r: r.pop("options"),
            "options a string": lambda r: r.update(options="x"),
            "unknown key": lambda r: r["options"].update(colour="blue"),
            "unknown arch": lambda r: r["options"].update(arch="vgg99"),
            "crop a string": lambda r: r.update(crop="big"),
            "no crop": lambda r: r.pop("crop"),
            "unknown resize": lambda r: r.update(resize="stretch"),
        }[damage])
    predict_fails(capsys, run, image, args)


@pytest.mark.parametrize("mean", [b"junk", npy(np.zeros((3, 16, 16), np.float32)),
                                  npy(np.zeros((3, 72, 80), np.float32)),
                                  npy(np.zeros((3, 96, 96), np.float32))],
                         ids=["junk", "smaller than the crop", "not square",
                              "not the image size"])
def test_a_damaged_mean_is_one_line_item14(run, image, capsys, mean):
    (run / "mean.npy").write_bytes(mean)
    predict_fails(capsys, run, image, run / "mean.npy")


@pytest.mark.parametrize("cut", [0, 22, 1000, -10])
def test_a_truncated_model_npz_is_one_line_item14(run, image, capsys, cut):
    model = run / "model.npz"
    data = model.read_bytes()
    model.write_bytes(data[:cut])
    predict_fails(capsys, run, image, model, "--model", "last")


def test_a_model_npz_of_another_class_count_is_one_line_item14(run, image, capsys):
    net = build_classifier("small", 2).predictor
    with chainer.using_config("train", False):
        net(np.zeros((1, 3, 64, 64), np.float32))
    chainer.serializers.save_npz(str(run / "model.npz"), net)
    line = predict_fails(capsys, run, image, run / "model.npz", "--model", "last")
    assert "fc5" in line


def test_the_undamaged_copy_still_predicts(run, image, capsys):
    assert cli.main(["predict", str(run), image]) == 0
    assert "%" in capsys.readouterr().out
