"""End to end, as a user would: `pretrained fetch bvlc_alexnet` from a server on 127.0.0.1,
`train --init-model bvlc_alexnet --freeze-until conv5` on demo-like data, `export`, then the
README's onnxruntime snippet, extracted from README.md and run as written.

The served file is a tiny Caffe AlexNet (the real convolution names and shapes, no fc layers:
:mod:`caffenets`); the registry's sha1 for this test is that file's.
"""

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlimages.cli import main
from mlimages.demo.site import ranged
from mlimages.evaluate.infer import class_probabilities
from mlimages.evaluate.model import load_model
from mlimages.pretrained import registry
from mlimages.training.npz import NpzArchive

from caffenets import alexnet_convs_once
from trainutil import dataset  # noqa: F401 (fixture)

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- onnx-snippet:"


def readme_snippet():
    """The ```python block that follows the snippet's marker in README.md."""
    text = README.read_text(encoding="utf-8")
    return re.search(r"```python\n(.*?)```", text[text.index(MARKER):], re.S)[1]


@pytest.mark.slow
def test_fetch_train_export_and_the_readme_snippet(dataset, site, tmp_path, monkeypatch,
                                                   capsys):
    path, data, sha1 = alexnet_convs_once(tmp_path)
    site.add("/zoo/bvlc_alexnet.caffemodel", ranged(data))
    monkeypatch.setenv(registry.URL_ENV, site.url("/zoo"))
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setitem(registry.MODELS, "bvlc_alexnet", dataclasses.replace(
        registry.MODELS["bvlc_alexnet"], sha1=sha1, size=len(data)))

    assert main(["pretrained", "fetch", "bvlc_alexnet"]) == 0
    assert "downloaded, sha1 checked" in capsys.readouterr().out
    out = tmp_path / "tuned"
    assert main(["train", dataset["train"], "--val", dataset["val"], "--root", dataset["root"],
                 "--mean", dataset["mean"], "--arch", "alex", "--crop", "67", "--epoch", "1",
                 "--batchsize", "6", "--val-batchsize", "6", "--seed", "0", "--quiet",
                 "--init-model", "bvlc_alexnet", "--freeze-until", "conv5",
                 "--out", str(out)]) == 0
    assert site.hits["/zoo/bvlc_alexnet.caffemodel"] == 1            # train used the cache
    args = json.loads((out / "args.json").read_text())
    assert args["options"]["finetune"]["init_model"] == "bvlc_alexnet"  # a name stays a name
    cached = next((tmp_path / "home" / "pretrained").glob("bvlc_alexnet-*.npz"))
    with NpzArchive(cached) as start, NpzArchive(out / "model.npz") as tuned:
        for layer in ("conv1", "conv3", "conv5"):                    # loaded, then frozen
            np.testing.assert_array_equal(tuned[f"{layer}/W"], start[f"{layer}/W"])

    deploy = tmp_path / "deploy" / "model.onnx"
    assert main(["export", str(out), "--out", str(deploy)]) == 0
    printed = capsys.readouterr().out
    diff = float(re.search(r"max \|Δprob\| (\S+)", printed)[1])
    assert diff <= 1e-4 and "top-1 equal" in printed

    photo = Path(dataset["root"]) / "rings" / "rings_0.jpg"
    shutil.copy(photo, tmp_path / "photo.jpg")
    ran = subprocess.run([sys.executable, "-c", readme_snippet()], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    name, prob = ran.stdout.split()
    run, network = load_model(out)
    want = class_probabilities(network, run, [str(photo)]).probs[0]
    assert name in run.names and abs(float(prob) - want[run.names.index(name)]) < 0.01
