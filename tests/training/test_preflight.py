"""The pre-flight check: missing listed images are counted before training (issue 13, item 5)."""

import pytest

from mlimages import listfile
from mlimages.training.options import TrainError
from mlimages.training.preflight import check_missing, count_missing

from conftest import write_image


def _tree(tmp_path, present, absent):
    root = tmp_path / "images"
    entries = []
    for i in range(present):
        write_image(root / "a" / f"{i}.png", size=(4, 4))
        entries.append((f"a/{i}.png", 0))
    entries += [(f"b/gone{i}.png", 1) for i in range(absent)]
    listfile.write_list(tmp_path / "train.txt", entries)
    return root, tmp_path / "train.txt"


def test_all_present_is_silent(tmp_path):
    root, lst = _tree(tmp_path, 5, 0)
    found = count_missing(lst, root)
    assert (found.total, found.paths) == (5, [])
    assert check_missing(found, root, 0.05) is None


def test_a_few_missing_are_a_warning_naming_them(tmp_path):
    root, lst = _tree(tmp_path, 39, 1)
    warning = check_missing(count_missing(lst, root), root, 0.05)
    assert "1 of 40 listed images are missing" in warning and "b/gone0.png" in warning


def test_too_many_missing_stop_the_run_with_the_first_paths(tmp_path):
    root, lst = _tree(tmp_path, 144, 30)
    with pytest.raises(TrainError, match=r"30 of 174 listed images are missing .*17\.2%.*"
                                         r"b/gone0.png, b/gone1.png, b/gone2.png, \.\.\."):
        check_missing(count_missing(lst, root), root, 0.05)


def test_a_wrong_root_says_so(tmp_path):
    _, lst = _tree(tmp_path, 3, 0)
    with pytest.raises(TrainError, match="--root .*nowhere is not a folder"):
        check_missing(count_missing(lst, tmp_path / "nowhere"), tmp_path / "nowhere", 0.05)


def test_absolute_paths_from_another_machine_name_their_prefix(tmp_path):
    entries = [(f"/home/alice/data/cat/{i}.jpg", 0) for i in range(4)]
    listfile.write_list(tmp_path / "train.txt", entries)
    with pytest.raises(TrainError, match="absolute paths under /home/alice/data/cat.*another "
                                         "machine"):
        check_missing(count_missing(tmp_path / "train.txt", tmp_path), tmp_path, 0.05)


def test_a_folder_where_an_image_should_be_is_missing(tmp_path):
    root, lst = _tree(tmp_path, 2, 0)
    (root / "a" / "1.png").unlink()
    (root / "a" / "1.png").mkdir()
    assert count_missing(lst, root).paths == ["a/1.png"]
