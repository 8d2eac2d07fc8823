"""The HTTP slots of a gather run: how many requests are in flight, and when none may start.

A run holds a slot for each attempt (:func:`mlimages.gather.fetch.fetch`). No attempt starts
while the run's backlog of staged bodies is full (``room`` cleared), and none once the run is
stopping (an interrupt, a folder error): it raises :class:`Closed`, as does a backoff cut short
by the stop, and the URL stays unsettled for the next run.
"""

import asyncio

from mlimages.errors import MlimagesError


class Closed(MlimagesError, RuntimeError):
    """Internal: the run is stopping, no new request (:class:`Slots`); the URL stays unsettled."""


class Slots:
    """The HTTP slots: ``n`` requests in flight, none started while ``room`` (an
    ``asyncio.Event``, or None) is cleared, none once :meth:`close` is called
    (:class:`Closed`). An async context manager, held for one attempt
    (:func:`mlimages.gather.fetch.fetch`)."""

    def __init__(self, n, room=None):
        self.free, self.stopping, self.room = asyncio.Semaphore(n), asyncio.Event(), room

    @property
    def closed(self):
        return self.stopping.is_set()

    def close(self):  # refuse every attempt not started yet (waiting for a slot, or to come)
        self.stopping.set()

    async def pause(self, seconds):
        """Sleep ``seconds`` before a retry; :class:`Closed` at once if closed meanwhile."""
        try:
            async with asyncio.timeout(seconds):
                await self.stopping.wait()
        except TimeoutError:
            return
        raise Closed()

    async def __aenter__(self):
        while True:
            if self.room is not None:
                await self.room.wait()
            await self.free.acquire()
            # The room is looked at again once a slot is had: hundreds of tasks may have
            # passed it while it was open and queued for the slots.
            if self.room is None or self.room.is_set() or self.closed:
                break
            self.free.release()
        if self.closed:  # closed while this waited for a slot
            self.free.release()
            raise Closed()
        return self

    async def __aexit__(self, *exc):
        self.free.release()
