"""Tests for mlimages.export.run and .check: a trained run exported, checked, its files written."""

import json
import sys

import numpy as np
import pytest

from mlimages import listfile
from mlimages.export.check import compare, sample_images
from mlimages.export.options import ExportCheckFailed, ExportError, ExportOptions
from mlimages.export.run import export
from mlimages.training.rundir import load_options, load_run

from trainutil import dataset, trained  # noqa: F401 (fixtures)


def test_a_run_is_exported_checked_and_described(trained, tmp_path):
    result, _ = trained
    done = export(result.out, ExportOptions(out=str(tmp_path / "deploy" / "model.onnx")))
    run = load_run(result.out)
    assert done.model.stat().st_size > 0
    assert listfile.read_label_def(done.label_def) == run.names
    info = json.loads(done.info.read_text())
    assert info["classes"] == run.names and info["crop"] == run.crop == 64
    assert info["size"] == 72 and info["resize"] == "downscale"
    assert info["input"]["shape"] == ["N", 3, 64, 64] and info["input"]["range"] == [0, 255]
    assert "subtracted" in info["mean"] and "1/255" in info["mean"]
    check = done.check
    assert check.images == 8 and check.source == "6 from val.txt, 2 generated"
    assert check.max_diff <= 1e-4 and check.top1_equal
    assert info["check"]["max_abs_diff"] == check.max_diff


def test_without_a_val_list_the_check_uses_generated_images(trained):
    result, _ = trained
    run, opts = load_run(result.out), load_options(result.out)
    chws, source = sample_images(run, opts.__class__(**{**opts.to_json(), "val": None}), 8)
    assert chws.shape == (8, 3, 72, 72) and chws.dtype == np.uint8 and source == "8 generated"


def test_a_disagreement_fails_the_export():
    reference = np.array([[0.7, 0.3], [0.4, 0.6]], np.float32)
    assert compare(reference, reference + 5e-5, "2 images").max_diff == pytest.approx(5e-5, rel=1e-3)
    with pytest.raises(ExportCheckFailed, match="max \\|Δprob\\| 0.001 .*nothing was written"):
        compare(reference, reference + 1e-3, "2 images")
    with pytest.raises(ExportCheckFailed, match="top-1 different"):
        compare(reference, np.array([[0.3, 0.7], [0.4, 0.6]], np.float32), "2 images")


def test_an_out_that_is_a_folder_is_refused_before_any_work(trained, tmp_path):
    result, _ = trained
    with pytest.raises(ExportError, match="is a folder"):
        export(result.out, ExportOptions(out=str(tmp_path)))
    with pytest.raises(ExportError, match="choose one of onnx"):
        ExportOptions(format="tflite")


def test_without_onnx_the_error_names_the_extra(trained, tmp_path, monkeypatch):
    result, _ = trained
    monkeypatch.setitem(sys.modules, "onnx", None)     # what an environment without it raises
    with pytest.raises(ExportError, match=r"pip install 'mlimages\[onnx\]'"):
        export(result.out, ExportOptions(out=str(tmp_path / "model.onnx")))
    assert not (tmp_path / "model.onnx").exists()
