"""The process-wide state a command runs under: the pools' server started early."""

import importlib
import multiprocessing
import subprocess
import sys

import pytest

from mlimages.cli import COMMANDS

pytestmark = pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(),
                                reason="the pools run under spawn here: no server to start")

# A pool worker reports whether it started with ``colorsys`` (a module nothing here imports).
_WORKER_SEES = """
import sys
from concurrent.futures import ProcessPoolExecutor
from mlimages._fs import pool_context
from mlimages.cli._process import start_pool_server
if sys.argv[1] == "preload":
    start_pool_server(["colorsys"])
with ProcessPoolExecutor(1, mp_context=pool_context()) as pool:
    print(pool.submit(eval, "'colorsys' in __import__('sys').modules").result())
print("colorsys" in sys.modules)
"""


def _run(code, *args, cwd):
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         cwd=cwd)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_workers_start_with_the_modules_the_server_imported(tmp_path):
    # [in the worker, in this process]: the server imports them, not the caller.
    assert _run(_WORKER_SEES, "preload", cwd=tmp_path) == ["True", "False"]
    assert _run(_WORKER_SEES, "none", cwd=tmp_path) == ["False", "False"]


def test_every_module_a_command_preloads_exists():
    # The server skips a module it cannot import without a word: a misspelt name would
    # silently bring back the workers' own imports.
    pooled = {name: cmd.preload for name, cmd in COMMANDS.items() if cmd.preload}
    assert "mean" in pooled
    for modules in pooled.values():
        for module in modules:
            importlib.import_module(module)


_STARTED = """
import sys
from multiprocessing import forkserver
from mlimages import cli
try:
    cli.main(sys.argv[1:])
except SystemExit:
    pass
server = forkserver._forkserver
print(server._forkserver_pid is not None, *server._preload_modules)
"""


def test_mean_starts_the_server_with_its_stage_and_help_starts_none(tmp_path):
    missing = str(tmp_path / "missing.txt")
    assert _run(_STARTED, "mean", missing, cwd=tmp_path) == ["True", "__main__",
                                                             "mlimages.mean"]
    assert _run(_STARTED, "mean", "--help", cwd=tmp_path)[-2:] == ["False", "__main__"]
    assert _run(_STARTED, "label", missing, cwd=tmp_path)[-2:] == ["False", "__main__"]


# A script (not -c: its first path entry is its own folder, not the current one) that asks the
# server for ``colorsys`` while the current folder holds another ``colorsys.py``.
_SHADOWED = """
import importlib.util
from concurrent.futures import ProcessPoolExecutor
from mlimages._fs import pool_context
from mlimages.cli._process import start_pool_server
if __name__ == "__main__":
    start_pool_server(["colorsys"])
    with ProcessPoolExecutor(1, mp_context=pool_context()) as pool:
        print(pool.submit(eval, "__import__('sys').modules['colorsys'].__file__").result())
    print(importlib.util.find_spec("colorsys").origin)
"""


def test_the_server_imports_from_where_the_caller_would(tmp_path):
    (tmp_path / "script").mkdir()
    (tmp_path / "script" / "run.py").write_text(_SHADOWED)
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "colorsys.py").write_text("raise SystemExit('the shadowing copy')\n")
    out = subprocess.run([sys.executable, str(tmp_path / "script" / "run.py")],
                         capture_output=True, text=True, cwd=tmp_path / "here")
    assert out.returncode == 0, out.stderr
    worker, caller = out.stdout.split()
    assert worker == caller and "here" not in worker
