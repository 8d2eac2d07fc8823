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


def test_top_level_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "mlimages", "--help"],
                         capture_output=True, text=True, check=True)
    for command in COMMANDS:
        assert f"    {command}" in out.stdout


def test_only_the_command_that_runs_is_built():
    choices = build_parser("mean")._subparsers._group_actions[0].choices
    assert "--size" in choices["mean"].format_help()
    assert "--verify" not in choices["label"].format_help()  # listed, not built
    assert "--verify" in build_parser()._subparsers._group_actions[0].choices["label"].format_help()


def test_gather_starts_without_numpy_or_pillow():
    # The event loop's process only does HTTP and bookkeeping; decoding is in the workers, and
    # NumPy and Pillow would add a fifth of a second before the first request.
    code = ("import sys; from mlimages.cli import build_parser; "
            "build_parser('gather').parse_args(['gather', '--urls', 'u', '--out', 'o']); "
            "import mlimages.gather, mlimages.gather.run, mlimages.gather.workers; "
            "from mlimages.gather.placeholders import load_placeholders; load_placeholders(); "
            "mlimages.gather.GatherOptions(); "
            "print(sorted(m for m in ('numpy', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_options_before_the_command_still_find_it():
    out = subprocess.run([sys.executable, "-m", "mlimages", "-v", "inspect", "--arch", "small"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "conv1" in out.stdout


def test_any_mlimages_error_is_printed_as_one_line(monkeypatch, capsys):
    from mlimages import cli
    from mlimages.errors import MlimagesError

    class Odd(MlimagesError, RuntimeError):
        pass

    def fail(args):
        raise Odd("the culprit; the fix")

    monkeypatch.setitem(cli.COMMANDS, "info", cli.COMMANDS["info"]._replace(run=fail))
    assert cli.main(["info"]) == 2
    assert capsys.readouterr().err == "mlimages info: error: the culprit; the fix\n"


def test_an_early_gather_error_is_quick_and_imports_no_chainer(tmp_path):
    code = ("import sys; from mlimages.cli import main; "
            f"rc = main(['gather', '--urls', {str(tmp_path / 'missing.txt')!r}, "
            f"'--out', {str(tmp_path / 'out')!r}]); "
            "print(rc, 'chainer' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["2", "False"], out.stderr
    assert "missing.txt" in out.stderr and "Traceback" not in out.stderr
