"""Issue 12, item 1: no file mlimages reads with NumPy can run code (no pickle, ever).

The payload is harmless but observable: unpickling it creates a marker file in tmp_path.
Each test checks that the marker is NOT created and that the refusal is one line naming
the file (the CLI prints any MlimagesError as ``mlimages CMD: error: ...``, status 2).
"""

import io
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np

from mlimages import cli
from trainutil import cli_args, dataset, options, small_dataset, trained  # noqa: F401 (fixtures)


class Payload:
    """Unpickling calls open(marker, "w"): the marker file appears."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def object_member(marker):
    """The bytes of an ``.npy`` holding a 0-d object array whose element is a Payload."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array(Payload(marker), dtype=object),
                              allow_pickle=True)
    return buffer.getvalue()


def replace_member(path, name, data):
    """Rewrite the zip ``path`` with member ``name`` replaced by ``data``."""
    with zipfile.ZipFile(path) as z:
        members = {info.filename: z.read(info) for info in z.infolist()}
    assert name in members, sorted(members)
    members[name] = data
    with zipfile.ZipFile(path, "w") as z:
        for key, value in members.items():
            z.writestr(key, value)


def an_image(data):
    return str(next(Path(data["root"]).rglob("*.jpg")))


def one_line_error(capsys, argv, culprit):
    """Run the CLI; assert status 2 and one error line that names ``culprit``."""
    status = cli.main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith(f"mlimages {argv[0]}: error: "), err
    assert str(culprit) in lines[0], err
    return lines[0]


def test_predict_refuses_a_pickled_model_npz_item1(trained, tmp_path, capsys):
    result, data = trained
    run = tmp_path / "run"
    shutil.copytree(result.out, run)
    marker = tmp_path / "marker"
    (run / "model.npz").write_bytes(pickle.dumps(Payload(marker)))
    line = one_line_error(capsys, ["predict", str(run), an_image(data), "--model", "last"], run / "model.npz")
    assert not marker.exists(), "the pickle in model.npz ran"
    assert "not an .npz" in line


def test_predict_refuses_a_model_npz_with_an_object_member_item1(trained, tmp_path, capsys):
    result, data = trained
    run = tmp_path / "run"
    shutil.copytree(result.out, run)
    marker = tmp_path / "marker"
    replace_member(run / "model.npz", "fc5/b.npy", object_member(marker))
    line = one_line_error(capsys, ["predict", str(run), an_image(data), "--model", "last"], run / "model.npz")
    assert not marker.exists(), "the object array in model.npz was unpickled"
    assert "fc5/b" in line and "pickle" in line


def test_resume_refuses_a_snapshot_with_an_object_member_item1(trained, tmp_path, capsys):
    result, _ = trained
    run = tmp_path / "run"
    shutil.copytree(result.out, run)
    marker = tmp_path / "marker"
    snapshot = run / "snapshot_iter_6"
    replace_member(snapshot, "updater/model:main/predictor/fc5/b.npy", object_member(marker))
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    line = one_line_error(capsys, ["train", "--resume", str(run), "--quiet"], snapshot)
    assert not marker.exists(), "the object array in the snapshot was unpickled"
    assert "pickle" in line
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_init_model_refuses_an_object_member_item1(small_dataset, tmp_path, capsys):
    marker = tmp_path / "marker"
    weights = tmp_path / "weights.npz"
    with zipfile.ZipFile(weights, "w") as z:
        z.writestr("conv1/W.npy", object_member(marker))
    argv = cli_args(small_dataset, tmp_path / "out", "--crop", "32", "--epoch", "1",
                    "--init-model", str(weights))[3:]
    line = one_line_error(capsys, argv, weights)
    assert not marker.exists(), "the object array in --init-model was unpickled"
    assert "pickle" in line
    assert not (tmp_path / "out").exists()
