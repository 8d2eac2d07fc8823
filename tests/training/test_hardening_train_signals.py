"""Issue 12, item 9 (train): SIGTERM and SIGHUP settle a run as Ctrl-C does (a final snapshot
and model.npz, exit status 130), and a stdout pipe that breaks (``| tee log`` killed by the
same Ctrl-C) loses the printed output, not the run."""

import signal
import subprocess
import time
from pathlib import Path

import pytest

from trainutil import cli_args, small_dataset  # noqa: F401 (fixtures)


def snapshots(out):
    return sorted(Path(out).glob("snapshot_iter_*"))


def start(data, out, quiet=True, **popen):
    args = cli_args(data, out, "--crop", "32", "--epoch", "50", "--snapshot-interval", "2")
    if not quiet:
        args.remove("--quiet")
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)


def wait_for_snapshot(proc, out, timeout=120):
    deadline = time.monotonic() + timeout
    while not snapshots(out):
        if proc.poll() is not None:
            pytest.fail(f"training ended (status {proc.returncode}) before its first "
                        f"snapshot: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no snapshot appeared")
        time.sleep(0.02)


def assert_settled(out, status, err):
    assert status == 130, err
    assert "Traceback" not in err, err
    assert (out / "model.npz").is_file(), err
    last = snapshots(out)[-1]
    iteration = int(last.name.rsplit("_", 1)[1])
    assert (out / f"model_iter_{iteration}.npz").is_file()
    assert iteration < 150                            # stopped early, not finished


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_a_signal_settles_the_run_like_ctrl_c_item9(small_dataset, tmp_path, signum):
    out = tmp_path / "out"
    proc = start(small_dataset, out)
    wait_for_snapshot(proc, out)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert_settled(out, proc.returncode, err)
    assert "stopping after this iteration" in err


def test_a_broken_stdout_pipe_loses_the_output_not_the_run_item9(small_dataset, tmp_path):
    out = tmp_path / "out"
    proc = start(small_dataset, out, quiet=False)      # the table and progress bar: stdout
    wait_for_snapshot(proc, out)
    proc.stdout.close()                                # `tee` is gone ...
    proc.send_signal(signal.SIGINT)                    # ... killed by the same Ctrl-C
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert_settled(out, proc.returncode, err)
    assert "Exception ignored" not in err and "BrokenPipeError" not in err


def test_under_nohup_a_closed_terminal_does_not_stop_the_run(small_dataset, tmp_path):
    # `nohup mlimages train ...` starts with SIGHUP ignored: the run must go on.
    out = tmp_path / "out"
    proc = start(small_dataset, out,
                 preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    wait_for_snapshot(proc, out)
    proc.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert_settled(out, proc.returncode, err)
    assert "SIGHUP" not in err
