"""The process-wide state a command runs under: the pools' server started early."""

import importlib
import subprocess
import sys

from mlimages.cli import COMMANDS

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
    pooled = {name: cmd.pool for name, cmd in COMMANDS.items() if cmd.pool}
    assert set(pooled) >= {"mean", "audit"}
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
