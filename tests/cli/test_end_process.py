"""The end of the program after gather: what the interpreter would do at exit, less its
teardown (mlimages.cli._process.end_process)."""

import subprocess
import sys

from mlimages.demo.site import Answer, image_bytes

# Ends with end_process(3): an atexit function and a weakref.finalize must run, buffered
# output must come out; an object freed only by the teardown says so in teardown.txt.
_ENDING = """
import atexit, pathlib, sys, threading, time, weakref
from mlimages.cli._process import end_process
here = pathlib.Path(sys.argv[1])

class Kept:
    def __del__(self):
        (here / "teardown.txt").write_text("freed")

kept = Kept()
atexit.register(lambda: (here / "atexit.txt").write_text("ran"))
weakref.finalize(kept, (here / "finalize.txt").write_text, "ran")
print("buffered", end="")
if "thread" in sys.argv:
    threading.Thread(target=lambda: (time.sleep(0.3),
                                     (here / "thread.txt").write_text("done"))).start()
if "mpi" in sys.argv:
    import types
    sys.modules["mpi4py.MPI"] = types.ModuleType("mpi4py.MPI")  # as if MPI had started
end_process(3)
"""


def _end(tmp_path, *args):
    out = subprocess.run([sys.executable, "-c", _ENDING, str(tmp_path), *args],
                         capture_output=True, text=True, timeout=60)
    files = {p.stem for p in tmp_path.iterdir()}
    return out, files


def test_the_process_ends_with_its_status_after_atexit_without_the_teardown(tmp_path):
    out, files = _end(tmp_path)
    assert out.returncode == 3, out.stderr
    assert out.stdout == "buffered"
    assert {"atexit", "finalize"} <= files
    assert "teardown" not in files  # the interpreter's teardown was skipped


def test_a_thread_still_running_gets_the_usual_end(tmp_path):
    out, files = _end(tmp_path, "thread")
    assert out.returncode == 3, out.stderr
    assert {"thread", "atexit", "finalize"} <= files  # waited for, as at any exit


def test_after_mpi_the_interpreter_ends_the_process(tmp_path):
    out, files = _end(tmp_path, "mpi")
    assert out.returncode == 3, out.stderr
    assert {"atexit", "finalize", "teardown"} <= files


def test_gather_from_the_command_line_ends_with_everything_written(site, tmp_path):
    urls = [site.add(f"/{i}.jpg", Answer(200, image_bytes(seed=i))) for i in range(3)]
    urls.append(site.add("/missing.jpg", Answer(404)))
    (tmp_path / "urls.txt").write_text("".join(u + "\n" for u in urls))
    log = tmp_path / "gather.log"
    out = subprocess.run(
        [sys.executable, "-m", "mlimages", "gather", "--urls", str(tmp_path / "urls.txt"),
         "--out", str(tmp_path / "out"), "--log", str(log), "--quiet"],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "kept 3 images" in out.stdout and out.stdout.endswith("\n")
    assert "http_404" in log.read_text()
    assert len((tmp_path / "out" / "manifest.jsonl").read_text().splitlines()) == 4
    failed = subprocess.run(
        [sys.executable, "-m", "mlimages", "gather", "--urls", str(tmp_path / "none.txt"),
         "--out", str(tmp_path / "out2")], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2 and "none.txt" in failed.stderr
