"""``--limit``'s admissions: how many requests of each label a gather run keeps in flight.

A label stops once it has ``limit`` images kept (by this run, earlier runs and, with
``--distributed``, the other ranks); until then, a new request of it starts only while the
requests in flight could not take it past the limit.
"""

import asyncio
from collections import Counter


class Admissions:
    """Per label, the requests in flight and the tasks waiting to start one.

    Alone, a run keeps at most ``limit - kept`` requests of a label in flight.  As one of N
    ranks, at most 1/N of that (but always one): every rank may be doing the same, and the
    other ranks' counts arrive late (``relay.INTERVAL``).

    Args:
        limit (int or None): images per label (None: no limit, every request admitted).
        ranks (int): the ranks sharing the limit.
        kept (callable): label -> images of it kept so far, everywhere.
    """

    def __init__(self, limit, ranks, kept):
        self.limit, self.ranks, self.kept = limit, ranks, kept
        self.inflight = Counter()
        self._gates = {}  # label -> asyncio.Condition

    async def acquire(self, label):
        """Wait until ``label`` may have one more request in flight: True, counted in flight;
        False once the label is full (skip the item)."""
        if not self.limit:
            return True
        gate = self._gates.setdefault(label, asyncio.Condition())
        async with gate:
            await gate.wait_for(lambda: self.kept(label) >= self.limit or
                                self.kept(label) + self.inflight[label] * self.ranks < self.limit)
            if self.kept(label) >= self.limit:
                return False
            self.inflight[label] += 1
            return True

    async def release(self, label):
        """A request of ``label`` settled (its success counted in ``kept`` first).

        It frees at most one admission, so one waiter of the label is woken, or all of them
        once the label is full (to skip their items): with a thousand tasks waiting on one
        label, waking all at each release cost ~1.7 ms of the event loop per image.
        """
        if not self.limit:
            return
        gate = self._gates[label]
        async with gate:
            self.inflight[label] -= 1
            if self.kept(label) >= self.limit:
                gate.notify_all()
            else:
                gate.notify()
