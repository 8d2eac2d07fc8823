import subprocess
import sys

from mlimages import __version__
from mlimages.cli import COMMANDS, build_parser


def test_version_and_help_through_python_m():
    out = subprocess.run([sys.executable, "-m", "mlimages", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"mlimages {__version__}"
    for command in COMMANDS:
        out = subprocess.run([sys.executable, "-m", "mlimages", command, "--help"],
                             capture_output=True, text=True, check=True)
        assert "usage: mlimages " + command in out.stdout


def test_help_shows_defaults():
    text = build_parser()._subparsers._group_actions[0].choices["label"].format_help()
    assert "(default: 0.0)" in text


def test_no_command_prints_help_and_fails():
    out = subprocess.run([sys.executable, "-m", "mlimages"], capture_output=True, text=True)
    assert out.returncode == 2 and "usage: mlimages" in out.stdout
