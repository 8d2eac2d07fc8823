"""The `pretrained` and `export` commands through the real entry point (`mlimages.cli.main`);
their runs end to end: tests/export/test_onnx_end_to_end.py."""

import os
import socket
import subprocess
import sys

from mlimages.cli import main
from mlimages.pretrained import registry

from trainutil import dataset  # noqa: F401 (fixture)


def test_pretrained_list_names_each_model_with_its_source_and_licence(capsys):
    assert main(["pretrained", "list"]) == 0
    out = capsys.readouterr().out
    for m in registry.MODELS.values():
        assert f"{m.name}  (--arch alex" in out and m.url in out and m.sha1 in out
    assert "unrestricted" in out and "cache:" in out


def test_pretrained_fetch_without_a_known_name_is_a_one_line_error(capsys):
    assert main(["pretrained", "fetch"]) == 2
    assert main(["pretrained", "fetch", "resnet50"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and all("bvlc_alexnet, bvlc_reference_caffenet" in e for e in errors)


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]        # closed once the block ends: nothing listens there


def test_pretrained_fetch_offline_names_the_url_and_the_fix(tmp_path):
    port = _closed_port()
    env = {registry.URL_ENV: f"http://127.0.0.1:{port}/zoo", registry.HOME_ENV: str(tmp_path)}
    ran = subprocess.run([sys.executable, "-m", "mlimages", "pretrained", "fetch",
                          "bvlc_reference_caffenet"], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=60)
    assert ran.returncode == 2 and ran.stdout == ""
    [line] = ran.stderr.splitlines()
    url = f"http://127.0.0.1:{port}/zoo/bvlc_reference_caffenet.caffemodel"
    assert line.startswith(f"mlimages pretrained: error: cannot download {url}")
    assert str(tmp_path / "pretrained" / "bvlc_reference_caffenet.caffemodel") in line
    assert "--init-model /path/to/bvlc_reference_caffenet.caffemodel" in line


def test_export_of_a_folder_that_is_no_run_is_a_one_line_error(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "m.onnx")]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("mlimages export: error:") and "args.json" in line


def test_train_init_model_offline_fails_in_one_line_before_writing(dataset, tmp_path,
                                                                   monkeypatch, capsys):
    monkeypatch.setenv(registry.URL_ENV, f"http://127.0.0.1:{_closed_port()}/zoo")
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "home"))
    out = tmp_path / "run"
    assert main(["train", dataset["train"], "--val", dataset["val"], "--root", dataset["root"],
                 "--mean", dataset["mean"], "--arch", "alex", "--crop", "67", "--quiet",
                 "--init-model", "bvlc_alexnet", "--out", str(out)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "cannot download" in line and "/zoo/bvlc_alexnet.caffemodel" in line
    assert not (out / "args.json").exists()
    assert main(["train", dataset["train"], "--arch", "small", "--mean", dataset["mean"],
                 "--root", dataset["root"], "--init-model", "bvlc_alexnet", "--quiet",
                 "--out", str(out)]) == 2
    assert "fit --arch alex, not --arch small" in capsys.readouterr().err
