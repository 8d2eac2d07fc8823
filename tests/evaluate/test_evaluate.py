"""mlimages.evaluate.run and `mlimages evaluate`: a run whose answers are known, end to end.

The colour run (colourrun.py) predicts an image's dominant colour, so the confusion matrix,
the figures and the order of the mistakes of the hand-built list below are known in advance.
"""

import csv
import json

import numpy as np
import pytest
from PIL import Image

from mlimages import cli
from mlimages.evaluate import EvalError, EvalOptions
from mlimages.evaluate.run import evaluate
from colourrun import NAMES, colour_list, colour_run

# name, colour, label. Classes: red green blue cyan magenta yellow; cyan, magenta and yellow
# get a constant logit of -5, lower than any colour's, so "yellow" is never in the top 5.
ITEMS = [("r1.png", (250, 0, 0), 0), ("r2.png", (200, 0, 0), 0),
         ("r3.png", (0, 220, 0), 0),                          # red taken for green (sure)
         ("g1.png", (0, 250, 0), 1), ("g2.png", (0, 0, 90), 1),   # green for blue (unsure)
         ("b1.png", (0, 0, 250), 2), ("b2.png", (0, 0, 230), 2),
         ("b3.png", (120, 0, 0), 2),                          # blue for red
         ("y1.png", (250, 250, 0), 5)]                        # a tie: red (the lower index)
CONFUSION = [[2, 1, 0, 0, 0, 0],
             [0, 1, 1, 0, 0, 0],
             [1, 0, 2, 0, 0, 0],
             [0, 0, 0, 0, 0, 0],
             [0, 0, 0, 0, 0, 0],
             [1, 0, 0, 0, 0, 0]]
MISTAKES = ["r3.png", "b3.png", "g2.png", "y1.png"]   # most confident first


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """The colour run and the list above, plus two unreadable entries (an HTML page, a
    missing file) placed among the readable ones."""
    folder = tmp_path_factory.mktemp("eval")
    run = colour_run(folder / "run", 6)
    root = folder / "images"
    listed = colour_list(root, folder / "lists" / "test.txt", ITEMS)
    (root / "broken.png").write_bytes(b"<html>404 not found</html>")
    lines = listed.read_text().splitlines()
    lines[3:3] = ["broken.png 1"]
    lines[6:6] = ["gone.png 2"]
    listed.write_text("\n".join(lines) + "\n")
    return run, listed, root


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def evaluated(case, tmp_path_factory):
    run, listed, root = case
    out = tmp_path_factory.mktemp("out") / "eval"
    return evaluate(run, listed, EvalOptions(root=str(root), out=str(out))), out


def test_confusion_matrix_of_a_known_model(evaluated):
    result, out = evaluated
    assert result.figures.confusion.tolist() == CONFUSION
    rows = list(csv.reader(open(out / "confusion.csv", encoding="utf-8")))
    assert rows[0] == ["true \\ predicted", *NAMES]
    assert rows[1:] == [[name, *map(str, counts)] for name, counts in zip(NAMES, CONFUSION)]


def test_known_figures(evaluated):
    figures = evaluated[0].figures
    assert (figures.correct, figures.count, figures.accuracy) == (5, 9, 5 / 9)
    assert (figures.k, figures.top_k_correct) == (5, 8)       # only yellow misses the top 5
    assert figures.most_confused[:2] == [(0, 1, 1), (1, 2, 1)]
    report = json.loads((evaluated[1] / "report.json").read_text())
    assert report["accuracy"] == 5 / 9 and report["top_k_accuracy"] == 8 / 9
    assert report["macro_f1"] == pytest.approx(figures.macro_f1)
    assert report["tta"] == "none" and report["model"].endswith("model.npz")
    assert report["list"].endswith("test.txt") and report["images"] == 11
    rows = read_csv(evaluated[1] / "per_class.csv")
    assert [r["class"] for r in rows] == list(NAMES)
    assert [int(r["support"]) for r in rows] == [3, 2, 3, 0, 0, 1]
    assert float(rows[0]["precision"]) == pytest.approx(2 / 4)
    assert float(rows[2]["recall"]) == pytest.approx(2 / 3)


def test_unreadable_images_are_listed_and_left_out(evaluated):
    result, out = evaluated
    report = json.loads((out / "report.json").read_text())
    reasons = {u["path"].rsplit("/", 1)[1]: u["reason"] for u in report["unreadable"]}
    assert set(reasons) == {"broken.png", "gone.png"}
    assert reasons["broken.png"].startswith("not_image")
    assert reasons["gone.png"].startswith("missing")
    assert report["evaluated"] == 9 and len(result.unreadable) == 2


def test_predictions_csv_and_probs_npy_follow_the_list(evaluated):
    _, out = evaluated
    rows = read_csv(out / "predictions.csv")
    assert [r["path"].rsplit("/", 1)[1] for r in rows] == [name for name, _, _ in ITEMS]
    probs = np.load(out / "probs.npy")
    assert probs.dtype == np.float32 and probs.shape == (9, 6)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert [int(r["predicted"]) for r in rows] == probs.argmax(axis=1).tolist()
    assert [int(r["true"]) for r in rows] == [label for _, _, label in ITEMS]
    assert rows[2]["true_name"] == "red" and rows[2]["predicted_name"] == "green"
    assert float(rows[2]["confidence"]) == pytest.approx(probs[2].max(), abs=1e-6)
    assert rows[0]["top_k"].split(";")[0].startswith("red:")
    assert len(rows[0]["top_k"].split(";")) == 5


def test_mistakes_most_confident_first(evaluated):
    _, out = evaluated
    rows = read_csv(out / "mistakes.csv")
    assert [r["path"].rsplit("/", 1)[1] for r in rows] == MISTAKES
    confidence = [float(r["confidence"]) for r in rows]
    assert confidence == sorted(confidence, reverse=True)
    assert float(rows[-1]["confidence"]) == pytest.approx(0.5, abs=1e-3)   # the tie


def test_the_pictures_are_written(evaluated):
    _, out = evaluated
    for name in ("confusion.png", "mistakes.png"):
        with Image.open(out / name) as im:
            assert im.format == "PNG" and min(im.size) > 200


def test_cli_prints_the_figures_and_its_accuracy_is_the_csvs(case, capsys):
    run, listed, root = case
    assert cli.main(["evaluate", str(run), str(listed), "--root", str(root)]) == 0
    out = capsys.readouterr().out
    rows = read_csv(run / "eval-test" / "predictions.csv")
    correct = sum(r["true"] == r["predicted"] for r in rows)
    assert f"{correct / len(rows):.2%} ({correct}/{len(rows)})" in out
    assert "55.56% (5/9)" in out and "top-5 accuracy" in out and "88.89% (8/9)" in out
    assert "2 unreadable" in out and "broken.png: not_image" in out
    assert "red -> green" in out and "macro F1" in out
    table = out[out.index("class"):]
    assert all(name in table for name in NAMES)


def test_a_label_outside_the_run_is_one_line_naming_the_list(case, tmp_path, capsys):
    run, _, root = case
    listed = tmp_path / "bad.txt"
    listed.write_text("r1.png 0\nr2.png 9\n")
    assert cli.main(["evaluate", str(run), str(listed), "--root", str(root),
                     "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mlimages evaluate: error: ") and "\n" not in err
    assert str(listed) in err and "label 9" in err and "6 classes" in err


def test_nothing_readable_is_an_error_not_a_report(case, tmp_path):
    run, _, root = case
    listed = tmp_path / "none.txt"
    listed.write_text("broken.png 0\ngone.png 1\n")
    with pytest.raises(EvalError, match="none of the 2 images"):
        evaluate(run, listed, EvalOptions(root=str(root), out=str(tmp_path / "o")))


def test_model_choice_reaches_the_figures(case, tmp_path):
    from colourrun import colour_network
    from mlimages._chainer import chainer
    run, listed, root = case
    best = tmp_path / "run"
    import shutil
    shutil.copytree(run, best, ignore=shutil.ignore_patterns("eval-*"))
    # A "best" model that answers cyan for everything.
    chainer.serializers.save_npz(str(best / "model_best.npz"), colour_network(6, other=(50,)))
    from mlimages.training.best import Best
    from mlimages.training.runmodels import write_best
    write_best(best, Best("val_loss", 0.1, 1, 3))  # the run's record that it kept a best model
    by_best = evaluate(best, listed, EvalOptions(root=str(root), out=str(tmp_path / "b")))
    assert by_best.figures.correct == 0 and by_best.model == best / "model_best.npz"
    by_last = evaluate(best, listed, EvalOptions(root=str(root), model="last",
                                                 out=str(tmp_path / "l")))
    assert by_last.figures.correct == 5 and by_last.model == best / "model.npz"


def test_flags_default_to_eval_options_and_build_them():
    import dataclasses
    from mlimages.cli import build_parser
    from mlimages.cli._args import options_from
    args = build_parser("evaluate").parse_args(["evaluate", "r", "l.txt"])
    assert options_from(args, EvalOptions) == EvalOptions()
    assert {f.name for f in dataclasses.fields(EvalOptions)} <= set(vars(args))
    args = build_parser("evaluate").parse_args(["evaluate", "r", "l.txt", "--tta", "10crop",
                                                "--model", "last", "--batchsize", "8"])
    assert options_from(args, EvalOptions) == EvalOptions(tta="10crop", model="last",
                                                          batchsize=8)
