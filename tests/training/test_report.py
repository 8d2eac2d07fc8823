"""Issue 13, item 6: what a run prints, a Keras or fastai user reads at a glance.

The start line, one row per epoch under human column names (interval rows only when asked
for, marked), a progress bar with a total and an ETA on a terminal only, and no escape code
or carriage return in output that goes to a pipe or a file."""

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import termios

import pytest

from mlimages.training.run import train
from trainutil import cli_args, options, small_dataset  # noqa: F401 (fixtures)

HEADER = ["epoch", "loss", "acc", "val_loss", "val_acc", "lr", "time"]
START = re.compile(r"^Found 18 images in 3 classes \(train\), 6 \(val\); model small, "
                   r"[\d.]+ [kM] parameters; device CPU \(\d+ threads?(, \w+ \w+)?\)$")


def table(lines):
    """(header words, rows as word lists) of the printed epoch table."""
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["epoch"])
    rows = [line.split() for line in lines[at + 1:] if line[:1].isspace() or line[:1].isdigit()]
    return lines[at].split(), [r for r in rows if r and r[0].isdigit()]


def test_one_row_per_epoch_with_human_names_item6(small_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    train(options(small_dataset, out, crop=32), progress=True)
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert [line for line in lines if START.match(line)], text
    header, rows = table(lines)
    assert header == HEADER
    assert [r[0] for r in rows] == ["1", "2"] and all(len(r) == len(HEADER) for r in rows)
    log = json.loads((out / "log").read_text())        # log_interval 1: 3 entries an epoch
    for row, first in zip(rows, (0, 3)):
        entries = log[first:first + 3]
        loss = sum(e["main/loss"] for e in entries) / 3
        assert float(row[1]) == pytest.approx(loss, abs=1e-4)       # the epoch's mean
        assert float(row[3]) == pytest.approx(entries[-1]["validation/main/loss"], abs=1e-4)
        assert float(row[4]) == pytest.approx(entries[-1]["validation/main/accuracy"], abs=1e-4)
        assert re.fullmatch(r"\d+\.\ds", row[6])                    # seconds per epoch
    assert "main/" not in text and "validation/" not in text and "(interval)" not in text


def test_interval_rows_only_when_asked_and_marked_item6(small_dataset, tmp_path, capsys):
    train(options(small_dataset, tmp_path / "run", crop=32), progress="intervals")
    lines = capsys.readouterr().out.splitlines()
    marked = [line for line in lines if line.endswith("(interval)")]
    assert [line.split()[:2] for line in marked] == [["iter", "1"], ["iter", "2"],
                                                      ["iter", "4"], ["iter", "5"]]
    assert [r[0] for r in table(lines)[1]] == ["1", "2"]


def test_piped_output_has_no_escape_codes_item6(small_dataset, tmp_path):
    args = [a for a in cli_args(small_dataset, tmp_path / "run", "--crop", "32", "--epoch", "2")
            if a != "--quiet"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    both = done.stdout + done.stderr
    assert "\x1b[" not in both and "\r" not in both
    header, rows = table(done.stdout.splitlines())
    assert header == HEADER and len(rows) == 2
    assert "(interval)" in done.stdout                 # --log-interval was given
    assert "main/" not in done.stdout and "validation/" not in done.stdout  # the summary too
    summary = next(line for line in done.stdout.splitlines() if line.startswith("finished"))
    assert summary.split(": ")[1].split()[1::2] == rows[-1][1:5]   # the table's last row


@pytest.mark.parametrize("columns", [100, 0], ids=["sized", "unsized"])
def test_progress_bar_on_a_terminal_has_a_total_and_an_eta_item6(small_dataset, tmp_path,
                                                                   columns):
    args = [a for a in cli_args(small_dataset, tmp_path / "run", "--crop", "32", "--epoch", "4")
            if a != "--quiet"]
    master, slave = pty.openpty()                       # unsized: 0x0, as `script` makes it
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    screen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:                                 # EIO: the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    stdout = proc.stdout.read().decode()
    assert proc.wait(timeout=120) == 0
    os.close(master)
    bar = screen.decode(errors="replace")
    assert re.search(r"\b\d+/12 \[\d\d:\d\d<\d\d:\d\d", bar), bar     # 4 epochs x 3 iterations
    assert not re.search(r"\d:\d\d:\d\d\.\d", bar + stdout)          # no microseconds
    assert "\x1b[" not in stdout and "\r" not in stdout               # the table: a pipe


# ------------------------------------------------------------------ the log, read back
def entry(iteration, epoch, loss, acc, elapsed, val=None, lr=0.01):
    e = {"iteration": iteration, "epoch": epoch, "main/loss": loss, "main/accuracy": acc,
         "lr": lr, "elapsed_time": elapsed}
    if val is not None:
        e["validation/main/loss"], e["validation/main/accuracy"] = val
    return e


def test_epoch_rows_weigh_each_entry_by_the_iterations_it_covers_item6():
    from mlimages.training.report import epoch_rows, last_epoch
    log = [entry(4, 0, 2.0, 0.2, 1.0),               # iterations 1-4, epoch 1 running
           entry(7, 1, 1.0, 0.5, 2.5, (0.9, 0.6)),   # 5-7: epoch 1 ends at iteration 7
           entry(8, 1, 0.8, 0.6, 3.0),               # 8: epoch 2 running (still says 1)
           entry(14, 2, 0.5, 0.9, 6.0, (0.7, 0.8), lr=0.005),
           entry(18, 2, 0.4, 1.0, 7.5)]              # a run stopped mid-epoch 3: no row
    rows = epoch_rows(log)
    assert [(r.epoch, r.iteration) for r in rows] == [(1, 7), (2, 14)]
    assert rows[0].loss == pytest.approx((4 * 2.0 + 3 * 1.0) / 7)
    assert rows[1].acc == pytest.approx((1 * 0.6 + 6 * 0.9) / 7)
    assert (rows[0].val_loss, rows[1].val_acc) == (0.9, 0.8)
    assert rows[1].lr == pytest.approx((1 * 0.01 + 6 * 0.005) / 7)
    assert [r.seconds for r in rows] == pytest.approx([2.5, 3.5])
    last = last_epoch(log)
    assert (last["epoch"], last["validation/main/loss"]) == (2, 0.7)
    assert last["main/loss"] == rows[1].loss                  # the epoch's mean
    assert last_epoch(log[:1]) == log[0] and last_epoch([]) == {}


def test_printed_lines_use_human_names_only_item6():
    from mlimages.training.report import (EpochRow, epoch_line, header, interval_line,
                                          metrics_text)
    row = EpochRow(3, 21, 0.51234, 0.8125, 0.6, 0.75, 0.0097, 12.34)
    assert header(True).split() == HEADER
    assert epoch_line(row, True).split() == ["3", "0.5123", "0.8125", "0.6000", "0.7500",
                                            "0.0097", "12.3s"]
    assert header(False).split() == ["epoch", "loss", "acc", "lr", "time"]
    assert len(epoch_line(row, False).split()) == 5
    line = interval_line(entry(100, 1, 0.5, 0.75, 9.0))
    assert line.split() == ["iter", "100", "loss", "0.5000", "acc", "0.7500", "(interval)"]
    text = metrics_text(entry(7, 1, 1.0, 0.5, 2.5, (0.9, 0.6)), at=1.0)
    assert text.split() == ["loss", "1.0000", "acc", "0.5000", "val_loss", "0.9000",
                            "val_acc", "0.6000"]
    assert metrics_text(entry(7, 1, 1.0, 0.5, 2.5), at=1.43).endswith("acc 0.5000 (epoch 1)")


def test_start_line_counts_parameters_and_names_the_device_item6():
    from mlimages._chainer import chainer
    from mlimages.models import build_classifier
    from mlimages.training.report import parameter_count, parameters_text, start_line
    from mlimages.training.rundir import materialise
    model = build_classifier("small", 3)
    materialise(model.predictor, 64)
    count = parameter_count(model)
    assert count == sum(p.array.size for p in model.params()) > 100_000
    assert parameters_text(57_043_000) == "57.0 M" and parameters_text(172_000) == "172 k"
    line = start_line(18, 6, 3, "small", count, chainer.get_device("@numpy"))
    assert START.match(line), line
    assert "no validation list" in start_line(18, None, 3, "small", count,
                                              chainer.get_device("@numpy"))
