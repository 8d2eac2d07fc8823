"""Issue 12, item 13 (mean): outputs that cannot be written are a one-line error before any
image is averaged, naming the path."""

import pytest

from mlimages import cli


def mean_fails(capsys, list_file, root, out, culprit):
    status = cli.main(["mean", str(list_file), "--root", str(root), "--out", str(out),
                       "--workers", "1", "--quiet"])
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert status == 2, captured.err
    assert "Traceback" not in captured.err
    assert len(lines) == 1 and lines[0].startswith("mlimages mean: error: "), captured.err
    assert str(culprit) in lines[0], captured.err
    assert not captured.out                           # no report: nothing was averaged
    assert not list_file.with_name("train_used_in_mean.txt").exists()
    return lines[0]


@pytest.mark.parametrize("folder", ["mean.png", "mean.npy", "mean.json"])
def test_an_output_that_is_a_folder_item13(listed, tmp_path, capsys, folder):
    list_file, root = listed
    (tmp_path / folder).mkdir()
    mean_fails(capsys, list_file, root, tmp_path / "mean.png", tmp_path / folder)


def test_an_output_under_a_file_item13(listed, tmp_path, capsys):
    list_file, root = listed
    parent = tmp_path / "file"
    parent.write_text("a file")
    mean_fails(capsys, list_file, root, parent / "mean.png", parent)


def test_the_used_list_beside_the_list_is_a_folder_item13(listed, tmp_path, capsys):
    list_file, root = listed
    used = list_file.with_name("train_used_in_mean.txt")
    used.mkdir()
    status = cli.main(["mean", str(list_file), "--root", str(root), "--out",
                       str(tmp_path / "mean.png"), "--workers", "1", "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and str(used) in err, err
    assert not (tmp_path / "mean.npy").exists()


def test_a_mean_whose_header_declares_a_huge_array_is_refused_unread(tmp_path):
    # A 100-byte file whose .npy header claims (3, 100000, 100000) float32 (120 GB).
    import io
    import numpy
    from mlimages.mean.files import read_mean
    from mlimages.mean.options import MeanError
    buf = io.BytesIO()
    numpy.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": (3, 100000, 100000)})
    path = tmp_path / "mean.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + buf.getvalue()[8:] + b"\0" * 16)
    with pytest.raises(MeanError, match="mean.npy.*declares"):
        read_mean(path)
