"""Progress and ``--limit`` counts between the ranks of ``mpiexec ... gather --distributed``.

Every rank runs its own gather (its shard) with a *peers* object plugged into its
:class:`~mlimages.gather.run.Run`:

* :class:`RankPeers` (ranks 1..N-1): at most every ``INTERVAL`` seconds, after a record, sends
  rank 0 its counts (URLs settled and images kept by this run; with ``--limit``, the kept
  count of each label that changed) and takes in what rank 0 sent back: per label, the images
  the other ranks kept (``others``), which the run adds to its own count for ``--limit``;
* :class:`Relay` (rank 0): a thread that receives those messages, draws the job's one
  progress bar and sends each rank its ``others``; rank 0's own run reports to it directly.

At the start, the kept counts of every shard's manifest are exchanged in one allgather, so a
resumed job starts from the job's totals.  When its gather ends, a rank sends its summary
(``DONE``) and waits for rank 0's ``BYE``: no message is then on its way to a rank that has
left.  In a process, only one thread at a time calls MPI (rank 0: the relay thread, between
the allgather and :meth:`Relay.finish`).  Waits poll every ``_POLL`` seconds: MPI's blocking
calls spin, and a waiting rank would take a core from the ranks still downloading.
"""

import threading
import time
from collections import Counter

from tqdm import tqdm

INTERVAL = 0.1  # seconds between two progress messages of a rank
_POLL = 0.05
PROGRESS, OTHERS, DONE, BYE = 11, 12, 13, 14  # message tags


def wait_for(comm, source, tag, idle=None):
    """Receive the next message (``source``, ``tag``), polling; ``idle()`` runs meanwhile."""
    while not comm.iprobe(source=source, tag=tag):
        if idle is not None:
            idle()
        time.sleep(_POLL)
    return comm.recv(source=source, tag=tag)


def _exchange(comm, run, limit):
    """Every rank's kept images per label (its shard's manifest), in rank order."""
    return [Counter(k) for k in comm.allgather(dict(run.ok) if limit else {})]


class RankPeers:
    """A rank's side (ranks 1..N-1); see the module's docstring."""

    def __init__(self, comm, limit):
        self.comm, self.limit, self.size = comm, limit, comm.Get_size()
        self.others = Counter()
        self._changed, self._sent, self._pending = set(), 0.0, None

    def start(self, run):
        everyone = _exchange(self.comm, run, self.limit)
        self.others = sum(everyone, Counter()) - everyone[self.comm.Get_rank()]

    def on_record(self, run, record):
        if self.limit:
            if record.status == "ok":
                self._changed.add(record.label)
            self._take_others()
        now = time.monotonic()
        if now - self._sent < INTERVAL:
            return
        self._sent = now
        if self._pending is not None:
            self._pending.wait()  # the last one: long received (rank 0 polls every _POLL)
        message = {"settled": sum(run.counts.values()), "ok": run.counts["ok"],
                   "kept": {label: run.ok[label] for label in self._changed}}
        self._pending = self.comm.isend(message, dest=0, tag=PROGRESS)
        self._changed = set()

    def _take_others(self):
        while self.comm.iprobe(source=0, tag=OTHERS):
            for label, n in self.comm.recv(source=0, tag=OTHERS).items():
                self.others[label] = n  # totals, not increments (Counter.update would add)

    def done(self, summary):
        """Send this rank's summary to rank 0; return once rank 0 has taken it."""
        if self._pending is not None:
            self._pending.wait()
        self.comm.send(summary, dest=0, tag=DONE)
        wait_for(self.comm, 0, BYE, idle=self._take_others)
        self._take_others()  # sent before the BYE, not yet taken: none left on the way


class Relay:
    """Rank 0's side: the job's progress bar, the kept counts; see the module's docstring.

    Attributes:
        size (int): the number of ranks (as on every rank's peers).
        others (Counter): label -> images kept by ranks 1..N-1 (for rank 0's own run).
        summaries (list): each rank's gather summary, once :meth:`finish` returned.
    """

    def __init__(self, comm, limit, progress):
        self.comm, self.limit, self.size = comm, limit, comm.Get_size()
        self.others, self.total, self._dirty = Counter(), Counter(), set()
        self.kept = [Counter() for _ in range(self.size)]
        self.settled, self.ok = [0] * self.size, [0] * self.size
        self.summaries = [None] * self.size
        self.bar = tqdm(disable=not progress, unit="img", desc=f"gather, {self.size} ranks",
                        dynamic_ncols=True)
        self._lock, self._thread, self._error, self._sent = threading.Lock(), None, None, 0.0

    def start(self, run):
        self.kept = _exchange(self.comm, run, self.limit)
        self.total = sum(self.kept, Counter())
        self.others = self.total - self.kept[0]
        self._thread = threading.Thread(target=self._serve, name="gather-relay", daemon=True)
        self._thread.start()

    def on_record(self, run, record):
        with self._lock:
            self.settled[0], self.ok[0] = sum(run.counts.values()), run.counts["ok"]
            if self.limit and record.status == "ok":
                self._set_kept(0, record.label, run.ok[record.label])

    def _set_kept(self, rank, label, n):
        self.total[label] += n - self.kept[rank][label]
        self.kept[rank][label] = n
        self._dirty.add(label)

    def finish(self, summary):
        """Rank 0's gather has ended: wait for every rank's summary, close the bar.

        Returns:
            list of dict: each rank's gather summary, in rank order.
        """
        with self._lock:
            self.summaries[0] = summary
            self.settled[0], self.ok[0] = summary["this_run"]["attempted"], \
                summary["this_run"]["ok"]
        if self._thread is not None:
            self._thread.join()
        self._draw()
        self.bar.close()
        if self._error is not None:
            raise self._error
        return self.summaries

    def _serve(self):
        try:
            while not all(s is not None for s in self.summaries):
                self._receive()
                if self.limit:
                    self._send_others()
                self._draw()
                time.sleep(_POLL)
        except BaseException as e:  # handed to the main thread by finish()
            self._error = e

    def _receive(self):
        from mpi4py import MPI
        status = MPI.Status()
        while self.comm.iprobe(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=status):
            rank, tag = status.Get_source(), status.Get_tag()
            message = self.comm.recv(source=rank, tag=tag)
            with self._lock:
                if tag == PROGRESS:
                    self.settled[rank], self.ok[rank] = message["settled"], message["ok"]
                    for label, n in message["kept"].items():
                        self._set_kept(rank, label, n)
                elif tag == DONE:
                    self.summaries[rank] = message
                    self.settled[rank] = message["this_run"]["attempted"]
                    self.ok[rank] = message["this_run"]["ok"]
            if tag == DONE:
                self.comm.send(None, dest=rank, tag=BYE)

    def _send_others(self):
        """Each running rank: the images of the changed labels that the others kept."""
        now = time.monotonic()
        if now - self._sent < INTERVAL or not self._dirty:
            return
        self._sent = now
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            updates = [{label: self.total[label] - self.kept[rank][label] for label in dirty}
                       for rank in range(self.size)]
            for label, n in updates[0].items():
                self.others[label] = n
        for rank in range(1, self.size):
            if self.summaries[rank] is None:
                self.comm.send(updates[rank], dest=rank, tag=OTHERS)

    def _draw(self):
        settled, ok = sum(self.settled), sum(self.ok)
        done = sum(s is not None for s in self.summaries)
        self.bar.set_postfix_str(f"ok={ok} failed={settled - ok} ranks done={done}/{self.size}",
                                 refresh=False)
        self.bar.update(settled - self.bar.n)
