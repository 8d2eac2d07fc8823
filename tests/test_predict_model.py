"""Issue 13, item 2 (predict's half): predict uses the run's best model when it kept one;
``--model best|last|PATH`` picks another, always read through ``rundir`` (no pickle).

The run: 3 epochs of `small` validated on a mislabelled list, so its best model (epoch 1,
``model_iter_3.npz``) is not its last (``model.npz``, iteration 9).
"""

import io
import json
import logging
import shutil

import numpy as np
import pytest

from mlimages import cli, listfile
from mlimages._chainer import chainer
from mlimages.models import build_classifier
from mlimages.predict import predict
from mlimages.training.run import train
from trainutil import make_dataset, options


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(run folder, images): best epoch 1 of 3."""
    root = tmp_path_factory.mktemp("predict_model")
    data = make_dataset(root / "data", size=36)
    wrong = root / "wrong_val.txt"
    listfile.write_list(wrong, [e._replace(label=(e.label + 1) % 3)
                                for e in listfile.read_list(data["val"])])
    out = root / "out"
    train(options(dict(data, val=str(wrong)), out, crop=32, epoch=3, keep=20,
                  snapshot_interval=1000), progress=False)
    assert json.loads((out / "best.json").read_text())["iteration"] == 3
    images = [str(data["root"]) + "/" + e.path for e in listfile.read_list(data["val"])]
    return out, images


def probs(predictions):
    return np.asarray([[g.prob for g in sorted(p.top)] for p in predictions])


def test_predict_uses_the_best_model_by_default_item2(run):
    out, images = run
    default = probs(predict(out, images))
    np.testing.assert_array_equal(default, probs(predict(out, images, model="best")))
    np.testing.assert_array_equal(default,
                                  probs(predict(out, images, model=str(out / "model_best.npz"))))
    assert not np.array_equal(default, probs(predict(out, images, model="last")))


def test_model_last_and_a_model_file_item2(run, monkeypatch):
    out, images = run
    last = probs(predict(out, images, model="last"))
    np.testing.assert_array_equal(last, probs(predict(out, images, model=str(out / "model.npz"))))
    epoch1 = probs(predict(out, images, model=str(out / "model_iter_3.npz")))
    np.testing.assert_array_equal(epoch1, probs(predict(out, images, model="best")))
    monkeypatch.chdir(out.parent)                              # a name in the run folder
    np.testing.assert_array_equal(probs(predict(out, images, model="model_iter_6.npz")),
                                  probs(predict(out, images,
                                                model=str(out / "model_iter_6.npz"))))


def test_cli_predict_says_which_model_it_uses_item2(run, capsys, caplog):
    out, images = run
    with caplog.at_level(logging.INFO):
        assert cli.main(["predict", str(out), images[0], "--json"]) == 0
    assert "model_best.npz" in caplog.text and "epoch 1" in caplog.text
    default = json.loads(capsys.readouterr().out)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert cli.main(["predict", str(out), images[0], "--json", "--model", "last"]) == 0
    assert str(out / "model.npz") in caplog.text and "iteration 9" in caplog.text
    assert json.loads(capsys.readouterr().out) != default


def one_line_error(capsys, args, *needles):
    status = cli.main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert len(lines) == 1 and lines[0].startswith("mlimages predict: error: "), err
    for needle in needles:
        assert str(needle) in lines[0], err
    return lines[0]


def test_a_run_without_a_best_model_uses_its_last_item2(run, tmp_path, capsys):
    out, images = run
    copy = tmp_path / "run"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("best.json", "model_best.npz"))
    np.testing.assert_array_equal(probs(predict(copy, images)),
                                  probs(predict(out, images, model="last")))
    one_line_error(capsys, ["predict", str(copy), images[0], "--model", "best"],
                   copy, "no best model", "--model last")


def test_a_missing_model_best_npz_is_named_item2(run, tmp_path, capsys):
    out, images = run
    copy = tmp_path / "run"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("model_best.npz"))
    one_line_error(capsys, ["predict", str(copy), images[0]], "missing model_best.npz")


def test_a_model_file_that_is_not_this_runs_network_is_one_line_item2(run, tmp_path, capsys):
    out, images = run
    net = build_classifier("small", 2).predictor
    with chainer.using_config("train", False):
        net(np.zeros((1, 3, 32, 32), np.float32))
    other = tmp_path / "two_classes.npz"
    chainer.serializers.save_npz(str(other), net)
    one_line_error(capsys, ["predict", str(out), images[0], "--model", str(other)],
                   other, "fc5")
    one_line_error(capsys, ["predict", str(out), images[0], "--model",
                            str(tmp_path / "gone.npz")], tmp_path / "gone.npz", "no such")
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    (tmp_path / "not_npz.npz").write_bytes(buffer.getvalue())
    one_line_error(capsys, ["predict", str(out), images[0], "--model",
                            str(tmp_path / "not_npz.npz")], tmp_path / "not_npz.npz")
