"""Issue 12, item 13 (train and demo): an --out that cannot be written is a one-line error
before any work, naming the path."""

import pytest

from mlimages import cli
from trainutil import cli_args, small_dataset  # noqa: F401 (fixtures)


def fails_at_once(capsys, argv, culprit):
    status = cli.main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert status == 2, captured.err
    assert "Traceback" not in captured.err
    assert len(lines) == 1 and lines[0].startswith(f"mlimages {argv[0]}: error: "), captured.err
    assert str(culprit) in lines[0], captured.err
    return lines[0]


def train_argv(data, out):
    return cli_args(data, out, "--crop", "32", "--epoch", "1")[3:]


def test_train_out_that_is_a_file_item13(small_dataset, tmp_path, capsys):
    out = tmp_path / "result"
    out.write_text("a file")
    fails_at_once(capsys, train_argv(small_dataset, out), out)
    assert out.read_text() == "a file"


def test_train_out_under_a_file_item13(small_dataset, tmp_path, capsys):
    parent = tmp_path / "file"
    parent.write_text("a file")
    fails_at_once(capsys, train_argv(small_dataset, parent / "result"), parent)


@pytest.mark.parametrize("name", ["model.npz", "args.json", "mean.npy", "log", "loss.png"])
def test_train_out_with_a_folder_where_a_file_goes_item13(small_dataset, tmp_path, capsys,
                                                          name):
    out = tmp_path / "result"
    (out / name).mkdir(parents=True)
    fails_at_once(capsys, train_argv(small_dataset, out), out / name)
    assert sorted(p.name for p in out.iterdir()) == [name]        # nothing written


def test_demo_out_that_is_a_file_item13(tmp_path, capsys):
    out = tmp_path / "demo"
    out.write_text("a file")
    fails_at_once(capsys, ["demo", "--out", str(out), "--quick"], out)


def test_demo_out_under_a_file_item13(tmp_path, capsys):
    parent = tmp_path / "file"
    parent.write_text("a file")
    fails_at_once(capsys, ["demo", "--out", str(parent / "demo"), "--quick"], parent)
