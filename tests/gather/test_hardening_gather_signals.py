"""Issue 12: kill -9 then an immediate re-run (item 8), SIGTERM and SIGHUP settle a run as
Ctrl-C does (item 9); a real ``mlimages gather`` process against the slow fake host."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlimages.demo.site import Answer, image_bytes
from mlimages.gather.outdir import OutDir
from mlimages.gather import GatherError
from test_gather import (assert_manifest_matches_folder, kept_files, manifest_lines, workers_of,
                         write_list)


def gather_cmd(listing, out, *extra):
    return [sys.executable, "-m", "mlimages", "gather", "--urls", listing, "--out", str(out),
            "--parallel", "4", "--timeout", "5", "--quiet", *extra]


def start(site, tmp_path, n=80, *extra):
    """A gather of ``n`` images in its own session, once it has kept a few of them."""
    urls = [site.add(f"/c/{i}.jpg", Answer(200, image_bytes(seed=i))) for i in range(n)]
    listing = write_list(tmp_path / "urls.txt", urls)
    out = tmp_path / "out"
    cmd = gather_cmd(listing, out, *extra)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while len(kept_files(out) if out.exists() else []) < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    return proc, cmd, out


def alive(pid):
    """True while ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def open_files(pid):
    """What ``pid``'s descriptors point at (one closed since the listing is left out)."""
    folder = Path(f"/proc/{pid}/fd")
    targets = set()
    for fd in os.listdir(folder):
        try:
            targets.add(os.readlink(folder / fd))
        except FileNotFoundError:
            pass  # closed in between: a worker still importing opens and closes files
    return targets


# ------------------------------------------------------------------ item 8
@pytest.mark.slow
def test_kill_9_then_an_immediate_rerun_starts_and_no_worker_outlives_it_item8(slow_site,
                                                                                tmp_path):
    proc, cmd, out = start(slow_site, tmp_path, 80, "--decode-workers", "2")
    workers = workers_of(proc.pid)
    assert len(workers) == 2
    lock = str((out / ".gather.lock").resolve())
    assert all(lock not in open_files(w) for w in workers), "a worker holds the lock"
    os.kill(workers[0], signal.SIGSTOP)  # stands for a worker deep in a long decode
    try:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        rerun = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        deadline = time.monotonic() + 5
        while any(map(alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not any(map(alive, workers)), "a decode process outlived its gather"
        _, err = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, err
        assert "another gather run" not in err
    finally:
        for w in workers:
            if alive(w):
                os.kill(w, signal.SIGKILL)
    records = assert_manifest_matches_folder(out)
    assert len(records) == 80 and all(r["status"] == "ok" for r in records.values())


def test_a_held_folder_names_the_live_pid_that_holds_it_item8(tmp_path):
    with OutDir(tmp_path / "out"):
        with pytest.raises(GatherError, match=f"another gather run \\(pid {os.getpid()}\\)"):
            with OutDir(tmp_path / "out"):
                pass


def test_a_lock_held_under_a_dead_pid_says_so_item8(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True).stdout.strip()
    (out / ".gather.lock").write_text(ended + "\n")
    holder = os.open(out / ".gather.lock", os.O_RDONLY)  # a process the dead run started
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        with pytest.raises(GatherError, match=f"pid {ended} has ended"):
            with OutDir(out):
                pass
    finally:
        os.close(holder)


# ------------------------------------------------------------------ item 9
@pytest.mark.slow
@pytest.mark.parametrize("sig, group", [(signal.SIGTERM, False), (signal.SIGHUP, True),
                                        (signal.SIGTERM, True), (signal.SIGINT, True)],
                         ids=["SIGTERM", "SIGHUP-to-the-group", "SIGTERM-to-the-group",
                              "SIGINT-to-the-group"])
def test_gather_settles_on_sigterm_and_sighup_as_on_ctrl_c_item9(slow_site, tmp_path, sig,
                                                                 group):
    proc, cmd, out = start(slow_site, tmp_path)
    if group:  # a closed terminal or a service manager signals every process of the run
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err and "interrupted" in err.strip().splitlines()[-1], err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["completed"] is False and summary["this_run"]["ok"] < 80
    lines = (out / "manifest.jsonl").read_text().splitlines()
    assert all(json.loads(line) for line in lines)
    records = assert_manifest_matches_folder(out)
    assert all(r["status"] == "ok" for r in records.values()), "a worker died with the signal"
    assert not (out / ".gather-tmp").exists()
    subprocess.run(cmd, check=True, capture_output=True)  # the rerun resumes
    assert len(manifest_lines(out)) == 80
    assert all(r["status"] == "ok" for r in assert_manifest_matches_folder(out).values())
