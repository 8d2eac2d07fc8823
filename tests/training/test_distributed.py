"""Tests for mlimages.training.distributed: `mpiexec -n 2 mlimages train ... --distributed` on the CPU.

Skipped when mpi4py is not installed (`make setup` installs the `mpi` extra, so `make test`
runs them).  Every run has a subprocess timeout: a job that hangs fails instead.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("mpi4py")
from mlimages import listfile  # noqa: E402
from mlimages.training.run import train  # noqa: E402
from trainutil import cli_args, dataset, options  # noqa: E402,F401 (fixtures)

MPIEXEC = Path(sys.executable).parent / "mpiexec"
if not MPIEXEC.exists():
    pytest.skip(f"no {MPIEXEC}: pip install mpi4py mpich", allow_module_level=True)


def mpi_train(data, out, *extra, n=2):
    """The command line of an n-rank distributed `small` run (batch 3 per rank)."""
    return [str(MPIEXEC), "-n", str(n), *cli_args(data, out, "--distributed",
                                                  "--batchsize", "3", *extra)]


def val_accuracy(out):
    log = json.loads((Path(out) / "log").read_text())
    return [e["validation/main/accuracy"] for e in log if "validation/main/accuracy" in e]


@pytest.mark.slow
def test_two_ranks_learn_like_one_process_and_rank_0_alone_writes(dataset, tmp_path):
    # Three epochs: the 18 training images give 3 steps an epoch, and one epoch of 3 steps is
    # still at chance level for one process too.
    one = train(options(dataset, tmp_path / "one", epoch=3), progress=False)
    done = subprocess.run(mpi_train(dataset, tmp_path / "two", "--epoch", "3"),
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("finished at iteration 9,") == 1  # one report, 18 / (2 x 3) x 3
    assert "effective batch 6" in done.stdout and "suggests lr 0.02" in done.stdout
    two = val_accuracy(tmp_path / "two")
    assert len(two) == 3                         # one log, one evaluation per epoch
    assert one.last["validation/main/accuracy"] >= 0.8 and two[-1] >= 0.8  # chance: 1/3
    assert abs(two[-1] - one.last["validation/main/accuracy"]) <= 0.2
    record = json.loads((tmp_path / "two" / "args.json").read_text())
    assert record["ranks"] == 2 and record["effective_batchsize"] == 6
    # each rank trained on its own half of the list
    shares = [listfile.read_list(tmp_path / "two" / ".ranks" / f"train.{r}.txt")
              for r in (0, 1)]
    assert len(shares[0]) == len(shares[1]) == 9
    assert set(shares[0]) | set(shares[1]) == set(listfile.read_list(dataset["train"]))
    assert sorted(p.name for p in (tmp_path / "two").glob("snapshot_iter_*")) == [
        "snapshot_iter_3", "snapshot_iter_6", "snapshot_iter_9"]

    resumed = subprocess.run([str(MPIEXEC), "-n", "2", sys.executable, "-m", "mlimages",
                              "train", "--resume", str(tmp_path / "two"), "--epoch", "4",
                              "--quiet", "--distributed"],
                             capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.count("finished at iteration 12,") == 1
    assert len(val_accuracy(tmp_path / "two")) == 4  # the same log, continued


def _rank_pid(root_pid, rank):
    """The pid of MPI rank ``rank`` among the descendants of ``root_pid`` (Linux /proc)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    todo, found = [root_pid], []
    while todo:
        pid = todo.pop()
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            env = []
        if f"PMI_RANK={rank}".encode() in env and b"mlimages" in Path(
                f"/proc/{pid}/cmdline").read_bytes():
            found.append(pid)
        todo.extend(children.get(pid, []))
    return found[0] if found else None


@pytest.mark.slow
def test_a_killed_rank_stops_the_job_instead_of_hanging(dataset, tmp_path):
    out = tmp_path / "out"
    job = subprocess.Popen(mpi_train(dataset, out, "--epoch", "1000"),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not (out / "log").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (out / "log").exists(), "training did not start"
        pid = _rank_pid(job.pid, 1)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert job.wait(timeout=60) == signal.SIGKILL  # mpiexec passes the signal on
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    said = job.stdout.read().decode()
    assert "BAD TERMINATION" in said and "Killed (signal 9)" in said, said


@pytest.mark.slow
def test_an_error_on_one_rank_aborts_every_rank(dataset, tmp_path):
    out = tmp_path / "out"
    # Rank 1 cannot write its share of the list: a folder is in the way.
    (out / ".ranks" / "train.1.txt").mkdir(parents=True)
    done = subprocess.run(mpi_train(dataset, out, "--epoch", "1"), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "rank 1 of 2 failed: IsADirectoryError" in done.stderr
    assert not (out / "model.npz").exists()
