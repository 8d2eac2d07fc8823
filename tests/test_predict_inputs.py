"""Issue 14, predict: image files, folders (recursive, sorted) and list files in any mix;
accuracy for lists; --csv, --tta, --model. Uses the colour run (tests/evaluate/colourrun.py),
whose answer is an image's dominant colour."""

import csv
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "evaluate"))
from colourrun import colour_run, solid  # noqa: E402

from mlimages import cli  # noqa: E402
from mlimages.predict import PredictError, expand_inputs, predict  # noqa: E402

RED, GREEN, BLUE = (240, 0, 0), (0, 240, 0), (0, 0, 240)


@pytest.fixture
def run(tmp_path):
    return colour_run(tmp_path / "run", 3)


@pytest.fixture
def tree(tmp_path):
    """tree/b/x.png (blue), tree/a/y.png (green), tree/a/z/w.PNG (red), and files that are not
    images (notes.md, a folder named like an image)."""
    root = tmp_path / "tree"
    solid(root / "b" / "x.png", BLUE)
    solid(root / "a" / "y.png", GREEN)
    solid(root / "a" / "z" / "w.PNG", RED)
    (root / "a" / "notes.md").write_text("not an image")
    (root / "a" / "dir.jpg").mkdir()
    return root


def names(predictions):
    return [Path(p.path).name for p in predictions]


def test_a_folder_is_read_recursively_in_sorted_order(run, tree):
    predictions = predict(run, [str(tree)])
    assert names(predictions) == ["y.png", "w.PNG", "x.png"]      # a/y, a/z/w, b/x
    assert [p.top[0].name for p in predictions] == ["green", "red", "blue"]


def test_a_list_file_is_read_as_a_list_with_labels(run, tree, tmp_path):
    listed = tmp_path / "val.txt"
    listed.write_text("a/y.png 1\nb/x.png 0\n# a comment\na/z/w.PNG 0\n")
    predictions = predict(run, [str(listed)], root=str(tree))
    assert names(predictions) == ["y.png", "x.png", "w.PNG"]
    assert [p.label for p in predictions] == [1, 0, 0]
    assert all(p.error is None for p in predictions)


def test_files_folders_and_lists_mix_in_the_order_given(run, tree, tmp_path):
    listed = tmp_path / "val.lst"
    listed.write_text("b/x.png 2\n")
    single = solid(tmp_path / "one.png", RED)
    items = expand_inputs([str(single), str(tree / "a"), str(listed)], root=str(tree))
    assert [Path(i.path).name for i in items] == ["one.png", "y.png", "w.PNG", "x.png"]
    assert [i.label for i in items] == [None, None, None, 2]


def test_cli_list_prints_its_accuracy_and_no_image_error(run, tree, tmp_path, capsys):
    listed = tmp_path / "val.txt"
    listed.write_text("a/y.png 1\nb/x.png 0\na/z/w.PNG 0\nmissing.png 2\n")
    status = cli.main(["predict", str(run), str(listed), "--root", str(tree)])
    out = capsys.readouterr().out
    assert "not an image" not in out
    assert f"{listed}: accuracy 66.67% (2/3), 1 unreadable not counted" in out
    assert status == 1                                           # one image could not be read


def test_cli_csv_has_one_row_per_image(run, tree, tmp_path, capsys):
    listed = tmp_path / "val.txt"
    listed.write_text("b/x.png 2\n")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"<html>not found</html>")
    table = tmp_path / "out" / "predictions.csv"
    status = cli.main(["predict", str(run), str(tree / "a"), str(listed), str(broken),
                       "--root", str(tree), "--csv", str(table), "--top", "2"])
    assert status == 1
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [Path(r["path"]).name for r in rows] == ["y.png", "w.PNG", "x.png", "broken.jpg"]
    assert [r["predicted_name"] for r in rows[:3]] == ["green", "red", "blue"]
    assert rows[2]["label"] == "2" and rows[0]["label"] == ""
    assert rows[3]["predicted"] == "" and rows[3]["error"].startswith("not_image")
    assert len(rows[0]["top_k"].split(";")) == 2
    assert float(rows[0]["confidence"]) > 0.9


def test_tta_and_model_reach_predict(run, tree, capsys):
    image = str(tree / "b" / "x.png")
    (plain,) = predict(run, [image])
    (flipped,) = predict(run, [image], tta="flip")
    assert flipped.top[0].name == "blue"
    assert flipped.top[0].prob == pytest.approx(plain.top[0].prob, abs=1e-6)  # solid colour
    with pytest.raises(PredictError, match="nope.npz"):
        predict(run, [image], model=str(run / "nope.npz"))
    assert cli.main(["predict", str(run), image, "--tta", "10crop", "--model", "last",
                     "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["top"][0]["name"] == "blue"


def test_a_list_file_with_a_bad_line_is_one_line_naming_it(run, tmp_path, capsys):
    listed = tmp_path / "val.txt"
    listed.write_text("a.png 0\nb.png cat\n")
    assert cli.main(["predict", str(run), str(listed)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mlimages predict: error: ") and f"{listed}:2" in err
