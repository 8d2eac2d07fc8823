"""`mpiexec -n N mlimages gather ... --distributed` on the local site: one job, one folder.

Skipped when mpi4py or mpiexec is missing (`make setup` installs both).  Every job has a
subprocess timeout: a job that hangs fails instead.
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
from mlimages.cli import main as cli_main  # noqa: E402
from mlimages.demo.site import Answer, image_bytes, to_placeholder  # noqa: E402
from mlimages.gather import GatherOptions, SourceOptions, gather  # noqa: E402
from mlimages.gather.outdir import record_key  # noqa: E402
from test_gather import _comparable, assert_manifest_matches_folder, manifest_lines  # noqa: E402

MPIEXEC = Path(sys.executable).parent / "mpiexec"
if not MPIEXEC.exists():
    pytest.skip(f"no {MPIEXEC}: pip install mpi4py mpich", allow_module_level=True)

FLAGS = ("--timeout", "5", "--retries", "0", "--decode-workers", "1")
OPTS = GatherOptions(timeout=5.0, retries=0, decode_workers=1)


def _list(site, tmp_path, n=24):
    """n good images, a 404, an HTML page, a cut JPEG, a placeholder, a PNG."""
    urls = [site.add(f"/img/{i}.jpg", Answer(200, image_bytes(seed=i))) for i in range(n)]
    urls += [site.add("/missing.jpg", Answer(404)),
             site.add("/page.jpg", Answer(200, b"<html></html>")),
             site.add("/trunc.jpg", Answer(200, image_bytes((200, 150), seed=99)[:2000])),
             site.add("/dead.jpg", to_placeholder()),
             site.add("/img/png.jpg", Answer(200, image_bytes(fmt="PNG", seed=50)))]
    path = tmp_path / "urls.txt"
    path.write_text("".join(u + "\n" for u in urls))
    return path


def _job(n, urls, out, *extra):
    """The command line of an n-rank job over a plain list labelled "things"."""
    return [str(MPIEXEC), "-n", str(n), sys.executable, "-m", "mlimages", "gather",
            "--urls", str(urls), "--label", "things", "--out", str(out), "--distributed",
            "--quiet", *FLAGS, *extra]


def _run(cmd, ok=True):
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _unsharded(urls, out):
    gather(SourceOptions(urls=str(urls), label="things"), out, OPTS)
    return _comparable(out)


@pytest.mark.slow
@pytest.mark.parametrize("n", [2, 3])
def test_n_ranks_end_equal_to_one_unsharded_run_and_a_rerun_resumes(site, tmp_path, n):
    urls = _list(site, tmp_path)
    whole = _unsharded(urls, tmp_path / "whole")
    out = tmp_path / "job"
    done = _run(_job(n, urls, out))
    assert _comparable(out) == whole
    assert_manifest_matches_folder(out)
    assert done.stdout.count("status ") == 1 and f"{n} ranks:" in done.stdout  # one summary
    summary = json.loads((out / "summary.json").read_text())
    job = summary["job"]
    assert job["ranks"] == n and job["this_run"]["attempted"] == 29
    assert sum(r["attempted"] for r in job["per_rank"]) == 29
    assert all(r["attempted"] > 0 for r in job["per_rank"]), "a rank got no URL"
    assert summary["manifest"]["by_status"]["ok"] == 25
    shards = sorted(p.name for p in (out / ".shards").iterdir())
    assert shards == [str(r) for r in range(n)] + ["job.json"]
    # the merged images are the shards' files (hard links), not copies
    kept = [r for r in manifest_lines(out) if r["status"] == "ok"]
    assert all(os.stat(out / r["path"]).st_nlink == 2 for r in kept)

    again = _run(_job(n, urls, out))  # the same command: every shard resumes, merged anew
    assert json.loads((out / "summary.json").read_text())["job"]["this_run"]["attempted"] == 0
    assert _comparable(out) == whole
    assert "not fetched: " in again.stdout and "settled" in again.stdout


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_rank_ends_the_job_and_a_rerun_ends_equal(slow_site, tmp_path, sig):
    urls = _list(slow_site, tmp_path, n=60)
    whole = _unsharded(urls, tmp_path / "whole")
    out = tmp_path / "job"
    job = subprocess.Popen(_job(2, urls, out, "--parallel", "1"), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        shard = out / ".shards" / "1" / "manifest.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
                shard.exists() and len(shard.read_bytes().splitlines()) >= 3):
            time.sleep(0.05)
        assert shard.exists(), "rank 1 did not start"
        ranks = json.loads((out / ".shards" / "job.json").read_text())["last_run"]
        os.kill(ranks[1]["pid"], sig)
        assert job.wait(timeout=60) != 0
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    said = job.stdout.read()
    # the job's first line maps pids to ranks (mpiexec names processes by pid)
    assert f"(pid@host, rank order): {ranks[0]['pid']}@{ranks[0]['host']} " \
           f"{ranks[1]['pid']}@{ranks[1]['host']}" in said
    if sig == signal.SIGKILL:  # no rank can say anything: mpiexec does
        assert "BAD TERMINATION" in said and "Killed (signal 9)" in said, said
    else:  # the rank settles what is in flight and names itself
        assert "mlimages gather: rank 1 of 2 failed: KeyboardInterrupt" in said, said
    assert not (out / "manifest.jsonl").exists()  # no merge: the job did not finish

    _run(_job(2, urls, out))
    assert _comparable(out) == whole
    rerun = json.loads((out / "summary.json").read_text())["job"]["this_run"]
    assert 0 < rerun["attempted"] < 65  # the rest, not everything again


@pytest.mark.slow
def test_work_folders_are_shipped_to_rank_0_and_only_new_images_again(site, tmp_path):
    urls = _list(site, tmp_path)
    whole = _unsharded(urls, tmp_path / "whole")
    out, work = tmp_path / "job", tmp_path / "node-local"
    _run(_job(2, urls, out, "--work", str(work)))
    assert _comparable(out) == whole
    assert sorted(p.name for p in work.iterdir()) == ["0", "1"]
    assert _comparable(out / ".shards" / "1")[1] == _comparable(work / "1")[1]
    mirrored = {p: p.stat().st_ino for p in (out / ".shards" / "1" / "things").iterdir()}

    _run(_job(2, urls, out, "--work", str(work)))
    assert _comparable(out) == whole
    assert {p: p.stat().st_ino for p in (out / ".shards" / "1" / "things").iterdir()} == \
        mirrored  # nothing shipped twice


def _two_labels(site, tmp_path, per_label=12):
    rows = ["url,label"]
    for label in ("cats", "dogs"):
        for i in range(per_label):
            rows.append(site.add(f"/{label}/{i}.jpg", Answer(200, image_bytes(seed=i))) +
                        f",{label}")
    path = tmp_path / "urls.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.slow
def test_limit_is_for_the_whole_job_not_per_rank(site, tmp_path):
    urls, out = _two_labels(site, tmp_path), tmp_path / "job"
    cmd = [str(MPIEXEC), "-n", "3", sys.executable, "-m", "mlimages", "gather", "--urls",
           str(urls), "--out", str(out), "--distributed", "--quiet", "--limit", "5", *FLAGS]
    _run(cmd)
    records = assert_manifest_matches_folder(out)
    shard_ok = [r for s in range(3) for r in manifest_lines(out / ".shards" / str(s))
                if r["status"] == "ok"]
    for label in ("cats", "dogs"):
        kept = {url for (lab, url), r in records.items() if lab == label and r["status"] == "ok"}
        assert len(kept) == 5
        # the rule: of what the shards kept, the 5 with the smallest (label, URL) hash
        by_shards = sorted((r["url"] for r in shard_ok if r["label"] == label),
                           key=lambda url: record_key(label, url))
        assert kept == set(by_shards[:5])
        over = {url for (lab, url), r in records.items()
                if lab == label and r["status"] == "over_limit"}
        assert over == set(by_shards[5:])
    # run again: the ranks exchange their counts first, and every label is full
    _run(cmd)
    assert json.loads((out / "summary.json").read_text())["job"]["this_run"]["attempted"] == 0
    assert assert_manifest_matches_folder(out) == records


@pytest.mark.slow
def test_an_error_on_one_rank_ends_the_job_naming_the_rank(site, tmp_path):
    urls, out = _list(site, tmp_path, n=4), tmp_path / "job"
    (out / ".shards").mkdir(parents=True)
    (out / ".shards" / "1").write_text("in the way")
    done = _run(_job(2, urls, out), ok=False)
    assert done.returncode != 0
    assert "mlimages gather: rank 1 of 2 failed: GatherError" in done.stderr
    assert not (out / "manifest.jsonl").exists()


@pytest.mark.slow
def test_a_folder_of_another_job_or_run_is_refused(site, tmp_path):
    urls = _list(site, tmp_path, n=4)
    _run(_job(2, urls, tmp_path / "job"))
    done = _run(_job(3, urls, tmp_path / "job"), ok=False)
    assert done.returncode != 0 and "holds a job of 2 ranks" in done.stderr
    gather(SourceOptions(urls=str(urls), label="things"), tmp_path / "plain", OPTS)
    done = _run(_job(2, urls, tmp_path / "plain"), ok=False)
    assert done.returncode != 0 and "not a --distributed job's" in done.stderr


def test_flags_that_do_not_go_with_distributed(tmp_path, capsys):
    for extra in (["--work", "w"], ["--distributed", "--shard", "1/2"],
                  ["--distributed", "--merge", "a"]):
        assert cli_main(["gather", "--urls", "u.txt", "--out", str(tmp_path / "o"),
                         *extra]) == 2
        assert "--work goes with --distributed" in capsys.readouterr().err


@pytest.mark.slow
def test_limit_counts_received_many_times_still_reach_the_limit(slow_site, tmp_path):
    # One request at a time per rank and 50 ms each: the ranks' counts go back and forth
    # many times; a limit of nearly every good image (61) needs almost all of every rank's:
    # a rank that counted the others' images twice would stop short.
    urls, out = _list(slow_site, tmp_path, n=60), tmp_path / "job"
    _run(_job(3, urls, out, "--limit", "58", "--parallel", "1"))
    records = assert_manifest_matches_folder(out)
    assert sum(r["status"] == "ok" for r in records.values()) == 58
