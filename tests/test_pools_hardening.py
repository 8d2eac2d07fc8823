"""Issue 12, item 8 (related): the process pools of ``label --verify`` and ``mean`` start
their workers so that they inherit neither the caller's threads nor its open files.

Each pool runs in a real ``python`` process that holds a marker file open (as gather holds its
lock), with only one Python thread (NumPy's BLAS may add its own); the test watches every
process descending from it while the pool works, and none may hold the marker.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

CALLER = r"""
import os, sys
marker = os.open(sys.argv[2], os.O_RDONLY)  # stands for gather's lock, a log, a socket
paths = sys.argv[3:]
if sys.argv[1] == "verify":
    from mlimages.label.verify import verify_files
    verify_files(paths, workers=2, progress=False)
else:
    from mlimages.mean import MeanOptions, compute_mean
    listing = os.path.join(os.path.dirname(sys.argv[2]), "list.txt")
    with open(listing, "w") as f:
        f.writelines(f"{p} 0\n" for p in paths)
    compute_mean(listing, "/", MeanOptions(size=32, workers=2), progress=False)
"""


def descendants(root):
    """Pids of every process below ``root`` (children, theirs, ...)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier} - found
        found |= frontier
    return found


def holders(pids, path):
    """The pids among ``pids`` that have ``path`` open."""
    held = set()
    for pid in pids:
        try:
            folder = f"/proc/{pid}/fd"
            if any(os.readlink(f"{folder}/{fd}") == path for fd in os.listdir(folder)):
                held.add(pid)
        except OSError:
            continue  # ended meanwhile
    return held


@pytest.mark.parametrize("pool", ["verify", "mean"])
def test_pool_workers_inherit_no_open_file_item8(tmp_path, pool):
    images = []
    for i in range(24):  # large enough to keep the workers busy while they are watched
        images.append(str(tmp_path / f"{i}.jpg"))
        Image.new("RGB", (2000, 1500), (i * 10, 80, 160)).save(images[-1], quality=95)
    marker = tmp_path / "marker"
    marker.write_text("held by the caller only")
    caller = subprocess.Popen([sys.executable, "-c", CALLER, pool, str(marker), *images],
                              stderr=subprocess.PIPE, text=True)
    # A process that holds the marker for an instant is one between fork and exec (how
    # forkserver and spawn start a fresh interpreter: it closes the fds it must not keep before
    # exec). A worker that inherited the file holds it for its whole life: seen holding it in
    # observations at least 50 ms apart.
    seen, first_held, inherited = set(), {}, set()
    while caller.poll() is None:
        below = descendants(caller.pid)
        seen |= below
        now = time.monotonic()
        for pid in holders(below, str(marker)):
            if now - first_held.setdefault(pid, now) >= 0.05:
                inherited.add(pid)
        time.sleep(0.002)
    assert caller.returncode == 0, caller.stderr.read()
    assert seen, "no worker process was seen"
    assert not inherited, f"pool processes {sorted(inherited)} hold the caller's open file"
