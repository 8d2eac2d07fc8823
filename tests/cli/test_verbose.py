"""Issue 13, item 6: -v/--verbose after the command name too; --epochs for --epoch."""

import subprocess
import sys

from mlimages.cli import COMMANDS, build_parser
from mlimages.cli.train import train_options
from trainutil import cli_args, small_dataset  # noqa: F401 (fixtures)


def test_verbose_after_the_command_name_item6():
    parser = build_parser("train")
    for argv in (["-v", "train", "t.txt"], ["train", "t.txt", "-v"],
                 ["train", "t.txt", "--verbose"], ["--verbose", "train", "t.txt", "-v"]):
        assert parser.parse_args(argv).verbose is True, argv
    assert parser.parse_args(["train", "t.txt"]).verbose is False


def test_every_command_takes_verbose_item6():
    choices = build_parser()._subparsers._group_actions[0].choices
    for name in COMMANDS:
        assert "-v" in choices[name]._option_string_actions, name
        assert "--verbose" in choices[name].format_help(), name


def test_verbose_after_the_command_runs_item6():
    done = subprocess.run([sys.executable, "-m", "mlimages", "inspect", "--arch", "small", "-v"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "conv1" in done.stdout


def test_epochs_is_an_alias_of_epoch_item6():
    args = build_parser("train").parse_args(["train", "t.txt", "--epochs", "3"])
    assert args.epoch == 3 and "epoch" in args.given   # given: --resume honours it
    assert train_options(args).epoch == 3
    assert "--epochs" in build_parser("train")._subparsers._group_actions[0] \
        .choices["train"].format_help()


def test_verbose_train_shows_our_debug_lines_not_every_librarys_item6(small_dataset, tmp_path):
    args = cli_args(small_dataset, tmp_path / "run", "--crop", "32", "--epoch", "1", "-v")
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "finished at iteration 3, epoch 1.00: loss " in done.stdout
    assert "DEBUG matplotlib" not in done.stderr and "DEBUG asyncio" not in done.stderr
