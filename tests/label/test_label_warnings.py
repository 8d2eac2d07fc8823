"""Issue 13, item 6: at `label`, a class too small for a validation image is named."""

import logging
import subprocess
import sys

from conftest import write_image
from mlimages.label import LabelOptions, label_tree


def _tree(root, counts):
    for name, n in counts.items():
        for i in range(n):
            write_image(root / name / f"{name}{i}.jpg", seed=hash(name) % 100 + i)
    return root


def test_a_class_without_validation_image_is_named_item6(tmp_path, caplog):
    root = _tree(tmp_path / "images", {"apple": 8, "kiwi": 1, "lime": 2})
    with caplog.at_level(logging.WARNING, logger="mlimages.label"):
        result = label_tree(root, tmp_path / "lists", LabelOptions(val=0.25, seed=0),
                            progress=False)
    val = {result.classes[e.label] for e in result.splits["val"]}
    assert val == {"apple"}                   # round(1 * 0.25) = round(2 * 0.25) = 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "kiwi (1 image)" in warnings[0] and "lime (2 images)" in warnings[0]
    assert "apple" not in warnings[0] and "--val 0.25" in warnings[0]


def test_no_warning_without_validation_split_item6(tmp_path, caplog):
    root = _tree(tmp_path / "images", {"apple": 8, "kiwi": 1})
    with caplog.at_level(logging.WARNING, logger="mlimages.label"):
        label_tree(root, tmp_path / "lists", LabelOptions(val=0.0), progress=False)
        label_tree(_tree(tmp_path / "more", {"apple": 8, "kiwi": 4}), tmp_path / "l2",
                   LabelOptions(val=0.25), progress=False)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_label_command_prints_the_warning_item6(tmp_path):
    root = _tree(tmp_path / "images", {"apple": 8, "kiwi": 1})
    done = subprocess.run([sys.executable, "-m", "mlimages", "label", str(root), "--out",
                           str(tmp_path / "lists"), "--val", "0.25", "--quiet"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "WARNING" in done.stderr and "kiwi (1 image)" in done.stderr
