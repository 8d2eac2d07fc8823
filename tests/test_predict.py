"""Tests for mlimages.predict: a trained run's output folder classifies images."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mlimages import cli, listfile
from mlimages.loader import BatchLoader
from mlimages.predict import PredictError, predict, preprocess
from trainutil import dataset, make_dataset, trained  # noqa: F401 (fixtures)


def accuracy_of_the_model_predict_uses(out):
    """The validation accuracy in OUT/log of the best model (predict's default): its epoch's."""
    best = json.loads((Path(out) / "best.json").read_text())
    log = json.loads((Path(out) / "log").read_text())
    (entry,) = [e for e in log if e["iteration"] == best["iteration"]
                and "validation/main/accuracy" in e]
    return entry["validation/main/accuracy"]


def val_images(data):
    entries = listfile.read_list(data["val"])
    return [f"{data['root']}/{e.path}" for e in entries], [e.label for e in entries]


def test_predict_agrees_with_the_validation_accuracy_in_the_log(trained):
    result, data = trained
    images, labels = val_images(data)
    predictions = predict(result.out, images, top=3)
    correct = sum(p.top[0].label == t for p, t in zip(predictions, labels))
    assert correct / len(labels) == pytest.approx(accuracy_of_the_model_predict_uses(result.out))


def test_preprocessing_is_the_evaluation_loaders(trained):
    result, data = trained
    images, labels = val_images(data)
    mean = np.load(result.out / "mean.npy")
    with BatchLoader(data["val"], data["root"], data["mean"], 64, len(images),
                     train=False, repeat=False) as loader:
        x, t = next(iter(loader))
    ours = np.stack([preprocess(p, mean, 64) for p in images])
    assert ours.dtype == np.float32 and ours.shape == x.shape
    np.testing.assert_allclose(ours, x, rtol=0, atol=1e-6)
    assert list(t) == labels


def test_top_k_is_sorted_and_clamped_to_the_class_count(trained):
    result, data = trained
    images, _ = val_images(data)
    (prediction,) = predict(result.out, images[:1], top=10)
    probs = [g.prob for g in prediction.top]
    assert len(prediction.top) == 3
    assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1, abs=1e-5)
    assert {g.name for g in prediction.top} == {"checks", "rings", "stripes"}


def test_unreadable_images_are_reported_not_fatal(trained, tmp_path):
    result, data = trained
    images, _ = val_images(data)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"<html>not found</html>")
    predictions = predict(result.out, [images[0], str(broken), str(tmp_path / "gone.jpg")])
    assert predictions[0].error is None and predictions[0].top
    assert predictions[1].top == [] and predictions[1].error.startswith("not_image")
    assert "drop it" in predictions[1].error
    assert predictions[2].error.startswith("missing")


def test_an_incomplete_folder_says_what_is_missing(trained, tmp_path):
    result, _ = trained
    partial = tmp_path / "partial"
    shutil.copytree(result.out, partial, ignore=shutil.ignore_patterns("model.npz"))
    with pytest.raises(PredictError, match="missing model.npz"):
        predict(partial, [], model="last")


def test_a_damaged_mean_is_a_predict_error_naming_it(trained, tmp_path):
    result, _ = trained
    damaged = tmp_path / "damaged"
    shutil.copytree(result.out, damaged)
    (damaged / "mean.npy").write_bytes(b"junk")
    with pytest.raises(PredictError, match=f"cannot read the mean {damaged / 'mean.npy'}"):
        predict(damaged, [])


def test_cli_predict_text_and_json(trained, capsys, tmp_path):
    result, data = trained
    images, _ = val_images(data)
    assert cli.main(["predict", str(result.out), images[0], "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == images[0] and out.count("%") == 2
    missing = str(tmp_path / "gone.jpg")
    assert cli.main(["predict", str(result.out), images[0], missing, "--json"]) == 1
    parsed = json.loads(capsys.readouterr().out)
    assert parsed[0]["error"] is None and len(parsed[0]["top"]) == 3   # 5 clamped to 3
    assert parsed[1]["error"].startswith("missing") and parsed[1]["top"] == []


def test_cli_pipeline_label_mean_train_predict(tmp_path, capsys):
    """The commands in pipeline order on a generated tree, as a user runs them."""
    make_dataset(tmp_path / "data", per_class=6, size=36)   # its images; lists made below
    images, lists = tmp_path / "data" / "images", tmp_path / "lists"
    assert cli.main(["label", str(images), "--out", str(lists), "--val", "0.34"]) == 0
    assert cli.main(["mean", str(lists / "train.txt"), "--root", str(images), "--size", "36",
                     "--out", str(tmp_path / "mean.png"), "--quiet"]) == 0
    out = tmp_path / "result"
    assert cli.main(["train", str(lists / "train.txt"), "--val", str(lists / "val.txt"),
                     "--root", str(images), "--mean", str(tmp_path / "mean.npy"),
                     "--arch", "small", "--crop", "32", "--epoch", "2", "--batchsize", "4",
                     "--seed", "0", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    val = listfile.read_list(lists / "val.txt")
    assert cli.main(["predict", str(out), "--json", "--top", "1",
                     *(str(images / e.path) for e in val)]) == 0
    predictions = json.loads(capsys.readouterr().out)
    accuracy = sum(p["top"][0]["label"] == e.label for p, e in zip(predictions, val)) / len(val)
    assert accuracy == pytest.approx(accuracy_of_the_model_predict_uses(out))
