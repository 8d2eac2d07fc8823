"""The examples run end to end in quick mode against the demo's 127.0.0.1 server."""

import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(script, out):
    return subprocess.run([sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)


def test_chainer_alex_gathers_labels_trains_alexnet_and_predicts(tmp_path):
    proc = _run("chainer_alex.py", tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "http_404" in proc.stdout and "placeholder" in proc.stdout
    result = tmp_path / "result"
    assert (result / "model.npz").is_file() and (result / "log").is_file()
    with np.load(result / "model.npz") as weights:
        assert weights["fc6/W"].shape == (4096, 9216)        # AlexNet at 227
    assert proc.stdout.count("%  ") >= 2                      # predictions printed


def test_finetune_reinitialises_the_head_and_keeps_frozen_layers(tmp_path):
    proc = _run("finetune.py", tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "re-initialised: fc5" in proc.stdout
    assert "frozen layers unchanged: True" in proc.stdout
