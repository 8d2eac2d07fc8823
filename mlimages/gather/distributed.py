"""``mpiexec -n N mlimages gather ... --out OUT --distributed``: one job, N ranks, one folder.

::

    OUT/
      .shards/job.json    the job: its number of ranks; each rank's pid and host, last run
      .shards/<r>/        rank r's shard (--shard r+1/N): a complete gather folder
      manifest.jsonl ...  the merge of every shard (merge.py), as one unsharded run writes it
      <label>/<name>      the kept images, hard links to the shards' files where possible

Rank r gathers shard r+1 of N into ``OUT/.shards/<r>/`` (a shared file system), or, with
``work``, into ``WORK/<r>/`` on its own node, from where rank 0 copies it into
``OUT/.shards/<r>/`` over MPI when it is done (``ship.py``).  The ranks report to rank 0
(``relay.py``), which draws one progress bar and, once every rank is done, merges the shards
into OUT (:func:`~mlimages.gather.merge.merge_shards`, ``again``: a re-run merges anew) and
writes one summary for the job.  Running the same command again resumes every shard from its
manifest and merges again.

``--limit N`` is for the whole job: the ranks exchange their kept counts per label (at the
start, then every ``relay.INTERVAL`` s), so that each stops a label once the job holds N of
it; ranks that keep images at the same moment can still overshoot, and the merge keeps N per
label by a rule that does not depend on the number of ranks (``mergecheck.trim_to_limit``).

An exception on any rank ends the job (``MPI_Abort``) after printing the rank and the reason;
a rank killed outright says nothing: ``mpiexec`` ends the job naming a pid (not always the
dead one's), and the job's first line (and ``job.json``) maps every rank to its pid and host.
"""

import dataclasses
import json
import os
import socket
import sys
import time
from collections import Counter
from pathlib import Path

from mlimages import _mpi
from mlimages._fs import atomic_write_text
from mlimages.gather import GatherOptions, GatherResult, gather
from mlimages.gather.merge import merge_shards
from mlimages.gather.names import make_out
from mlimages.gather.outdir import MANIFEST
from mlimages.gather.records import GatherError
from mlimages.gather.relay import Relay, RankPeers

# Under OUT, hidden: `mlimages label OUT` skips it (a shard is not a class), and no label or
# file name gather makes starts with a dot.
SHARDS = ".shards"
JOB = "job.json"


@dataclasses.dataclass
class JobResult:
    """What the job did (rank 0 only).

    Attributes:
        summary (dict): ``OUT/summary.json``: the merge's summary, with ``job``: the ranks,
            their runs and the job's totals.
        view (GatherResult): the job's figures in a gather run's shape, for ``summary_table``.
    """

    summary: dict
    view: GatherResult


def rank_folder(out, work=None):
    """This rank's shard folder: ``OUT/.shards/<rank>``, or ``WORK/<rank>`` with ``work``."""
    rank = _mpi.world("gather").Get_rank()
    return (Path(work) if work is not None else Path(out) / SHARDS) / str(rank)


def gather_distributed(source, out, opts=None, work=None, progress=True, on_start=None):
    """One rank of ``mpiexec -n N mlimages gather ... --distributed`` (every rank calls it).

    Args:
        source (SourceOptions): the whole list (no ``shard``: each rank takes its own).
        out (str or Path): the job's folder, seen by rank 0 (by every rank without ``work``).
        opts (GatherOptions): as for :func:`~mlimages.gather.gather`; ``limit`` is the job's.
        work (str or Path or None): a node-local folder for the shards, when OUT is not on a
            file system every rank sees.
        progress (bool): rank 0 draws the job's progress bar.
        on_start (callable or None): called with this rank's shard folder first, where an
            error ends the job like any other (the CLI opens its log there).

    Returns:
        JobResult on rank 0, None on the other ranks.

    Raises:
        DistributedError: mpi4py is missing.  Any other error on a rank ends the job
        (``MPI_Abort``) after printing the rank and the reason.
    """
    opts = opts or GatherOptions()
    if source.shard is not None:
        raise GatherError("--distributed gives each rank its shard: leave out --shard")
    comm = _mpi.world("gather")
    with _mpi.abort_on_error(comm, "gather"):
        folder = rank_folder(out, work)
        if on_start is not None:
            on_start(folder)
        return _job(comm, source, Path(out), folder, opts, work, progress)


def _job(comm, source, out, folder, opts, work, progress):
    rank, size = comm.Get_rank(), comm.Get_size()
    started = time.monotonic()
    if rank == 0:
        _check_job(out, size)
    where = comm.allgather((os.getpid(), socket.gethostname(), str(folder)))
    if rank == 0:
        _record_job(out, where)
    shard = dataclasses.replace(source, shard=(rank + 1, size))
    peers = Relay(comm, opts.limit, progress) if rank == 0 else RankPeers(comm, opts.limit)
    result = gather(shard, folder, opts, progress=False, peers=peers)
    if rank != 0:
        peers.done(result.summary)
        if work is not None:
            from mlimages.gather.ship import serve
            serve(comm, folder)
        return None
    summaries = peers.finish(result.summary)
    shards = [out / SHARDS / str(r) for r in range(size)]
    clock = [time.monotonic()]
    if work is not None:
        from mlimages.gather.ship import collect
        collect(comm, folder, shards)
    clock.append(time.monotonic())
    merged = merge_shards(shards, out, None if opts.limit else source, link=True, again=True,
                          limit=opts.limit)
    clock.append(time.monotonic())
    times = {"elapsed_s": clock[2] - started, "ship_s": clock[1] - clock[0],
             "merge_s": clock[2] - clock[1]}
    return _result(merged, summaries, where, times)


def _check_job(out, size):
    """Refuse an OUT that holds a gather run of another kind, or a job of another size."""
    make_out(out)
    job = out / SHARDS / JOB
    if job.is_file():
        ranks = json.loads(job.read_text()).get("ranks")
        if ranks != size:
            raise GatherError(f"{out} holds a job of {ranks} ranks: run it again with "
                              f"mpiexec -n {ranks} (each rank resumes its shard), or choose "
                              "a new --out")
    elif (out / MANIFEST).exists() and (out / MANIFEST).stat().st_size:
        raise GatherError(f"{out} holds a gather run that is not a --distributed job's "
                          f"(it has a {MANIFEST} but no {SHARDS}/{JOB}): choose a new --out")


def _record_job(out, where):
    ranks = [{"rank": r, "pid": pid, "host": host, "folder": folder}
             for r, (pid, host, folder) in enumerate(where)]
    (out / SHARDS).mkdir(exist_ok=True)
    atomic_write_text(out / SHARDS / JOB, json.dumps(
        {"version": 1, "ranks": len(ranks), "last_run": ranks}, indent=2) + "\n")
    print(f"mlimages gather: {len(ranks)} ranks (pid@host, rank order): "
          + " ".join(f"{pid}@{host}" for pid, host, _ in where), file=sys.stderr, flush=True)


def _result(merged, summaries, where, times):
    """OUT/summary.json: the merge's, with the job's ranks, totals and times (seconds: the
    job on rank 0, shipping the --work shards, the merge)."""
    elapsed = times["elapsed_s"]
    by_status, skipped = Counter(), Counter()
    for s in summaries:
        by_status.update(s["this_run"]["by_status"])
        skipped.update({k: v for k, v in s["skipped"].items() if k != "other_shard"})
    ok, attempted = by_status["ok"], sum(by_status.values())
    this_run = {"attempted": attempted, "by_status": dict(sorted(by_status.items())), "ok": ok,
                "bytes": sum(s["this_run"]["bytes"] for s in summaries),
                "images_per_s": round(ok / elapsed, 2) if elapsed > 0 else 0.0}
    per_rank = [{"rank": r, "pid": where[r][0], "host": where[r][1], "folder": where[r][2],
                 "elapsed_s": s["elapsed_s"], **{k: s["this_run"][k] for k in
                                                 ("attempted", "ok", "images_per_s")}}
                for r, s in enumerate(summaries)]
    summary = merged.summary | {"job": {"ranks": len(summaries), "this_run": this_run,
                                        **{k: round(v, 3) for k, v in times.items()},
                                        "per_rank": per_rank}}
    atomic_write_text(merged.summary_path,
                      json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    view = {"elapsed_s": round(elapsed, 3), "completed": True, "this_run": this_run,
            "skipped": dict(skipped), "manifest": merged.summary["manifest"],
            "bad_lines": sum(s["bad_lines"] for s in summaries),
            "bad_line_examples": [e for s in summaries for e in s["bad_line_examples"]]}
    return JobResult(summary, GatherResult(view, merged.manifest, merged.summary_path))


def job_table(result):
    """The report rank 0 prints: the job's counts by status, then one line per rank."""
    from mlimages.gather import summary_table
    job = result.summary["job"]
    lines = [summary_table(result.view), f"{job['ranks']} ranks:"]
    for r in job["per_rank"]:
        lines.append(f"  rank {r['rank']} ({r['pid']}@{r['host']}): {r['attempted']} URLs, "
                     f"{r['ok']} kept in {r['elapsed_s']:.1f} s, {r['folder']}")
    if result.summary.get("over_limit"):
        lines.append(f"{result.summary['over_limit']} images over --limit left out of the "
                     "merge (status over_limit)")
    return "\n".join(lines)
