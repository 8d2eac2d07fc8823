"""Issue 13, item 6: plots a person would put in a report."""

from PIL import Image

from trainutil import dataset, trained  # noqa: F401 (fixtures)


def test_curves_png_has_loss_and_accuracy_side_by_side_item6(trained):
    result, _ = trained
    path = result.out / "curves.png"
    assert path.is_file()
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert width >= 1.8 * height and height >= 300          # two panels, side by side
    assert 20_000 < path.stat().st_size < 1_000_000
    for name in ("loss.png", "accuracy.png"):
        assert Image.open(result.out / name).format == "PNG"


def rows():
    from mlimages.training.report import EpochRow
    val = [(0.9, 0.5), (0.6, 0.7), (0.5, 0.8), (0.7, 0.8)]   # best val_loss: epoch 3
    return [EpochRow(e + 1, 5 * (e + 1), 1.0 / (e + 1), 0.5 + 0.1 * e, vl, va, 0.01, 1.0)
            for e, (vl, va) in enumerate(val)]


def test_best_epoch_is_the_lowest_validation_loss_item6():
    from mlimages.training.report import EpochRow, best_epoch
    assert best_epoch(rows()).epoch == 3
    assert best_epoch(rows(), "val_acc").epoch == 3        # highest; the earliest of equals
    assert best_epoch([r._replace(val_loss=None, val_acc=None) for r in rows()]) is None
    assert best_epoch([EpochRow(1, 5, 1.0, 0.5, 0.4, 0.9, 0.01, 1.0)] + rows()).epoch == 1


def test_the_figure_is_titled_in_epochs_with_legends_and_the_best_epoch_item6():
    from mlimages.training.plots import PANELS, figure
    from mlimages.training.report import best_epoch
    fig = figure(rows(), PANELS, best_epoch(rows()))
    axes = fig.get_axes()
    assert [a.get_title() for a in axes] == ["Loss", "Accuracy"]
    for a in axes:
        assert a.get_xlabel() == "epoch"
        labels = [t.get_text() for t in a.get_legend().get_texts()]
        assert labels[:2] == ["train", "validation"]
        assert labels[2].startswith("best: epoch 3")
        marker = [line for line in a.get_lines() if line.get_label().startswith("best")]
        assert list(marker[0].get_xdata()) == [3, 3]                 # a vertical line at 3
    train_line = axes[0].get_lines()[0]
    assert list(train_line.get_xdata()) == [1, 2, 3, 4]           # x in epochs


def test_without_validation_only_train_is_drawn_item6(tmp_path):
    from mlimages.training.plots import PANELS, figure, write_curves
    from mlimages.training.report import best_epoch, epoch_rows
    log = [{"iteration": 3 * e, "epoch": e, "main/loss": 1.0 / e, "main/accuracy": 0.5,
            "lr": 0.01, "elapsed_time": float(e)} for e in (1, 2)]
    fig = figure(epoch_rows(log), PANELS, best_epoch(epoch_rows(log)))
    for a in fig.get_axes():
        assert [t.get_text() for t in a.get_legend().get_texts()] == ["train"]
    written = write_curves(log, tmp_path)
    assert sorted(p.name for p in written) == ["accuracy.png", "curves.png", "loss.png"]
    assert write_curves(log[:0], tmp_path / "none") == []


def test_the_marked_epoch_follows_the_runs_best_metric(tmp_path):
    # With --best val_acc the marked epoch is the one model_best.npz holds, not the lowest loss.
    from mlimages.training.plots import PANELS, figure
    from mlimages.training.report import best_epoch
    table = [r._replace(val_acc=0.9 if r.epoch == 1 else r.val_acc) for r in rows()]
    fig = figure(table, PANELS, best_epoch(table, "val_acc"), "val_acc")
    labels = [t.get_text() for t in fig.get_axes()[0].get_legend().get_texts()]
    assert labels[2] == "best: epoch 1 (val_acc 0.9)"
