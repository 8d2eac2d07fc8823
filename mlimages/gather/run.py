"""The gather loop: stream items, fetch them concurrently, validate, store, record.

One asyncio event loop does the HTTP (``parallel`` requests in flight, ``per_host`` per host,
connections kept alive).  Decoding is CPU work, so it never runs on the loop: each body is
written to a temporary file and checked by a worker process (``workers.py`` says why processes
and not threads), then renamed into place.  The list is read in a thread, in batches, so a
14-million-line file never stalls the downloads.  Every decision about a URL (resume, limits,
dedupe, file names, manifest lines) is taken on the loop thread, so none of it needs a lock.
"""

import asyncio
import concurrent.futures
import itertools
import logging
import time
from collections import Counter

import aiohttp

from mlimages import __version__
from mlimages.gather import fetch as fetching
from mlimages.gather.admissions import Admissions
from mlimages.gather.names import NameRegistry, extension, file_stem, inside
from mlimages.gather.outdir import record_key
from mlimages.gather.records import GatherError, Record, is_transient
from mlimages.gather.slots import Closed, Slots

log = logging.getLogger("mlimages.gather")
_BATCH = 512
# Bodies fetched and staged that may wait for a validator beyond the requests in flight, and
# their bytes: the HTTP side runs ahead of validation (the validators yield the CPU to the
# event loop: workers.py), which catches up while requests wait on slow hosts, as on the
# timeouts at a run's end; past either bound no new request starts (benchmarks/RESULTS.md,
# 2026-12-03, 10:40). A waiting body holds a task (4 us each to start); 1,024 filled up within
# a CPU-bound run of 2,300 URLs and held the requests back (RESULTS.md, 2026-12-03, 11:42).
BACKLOG = 4096
BACKLOG_BYTES = 256 << 20


class Run:
    """One run over a source into an open :class:`~mlimages.gather.outdir.OutDir`.

    Attributes (read them after :meth:`main`):
        counts (Counter): status -> records written by this run.
        kept_bytes (int): bytes of the images kept by this run.
        skipped (Counter): "settled", "repeated", "limit" -> items not fetched.
        fatal (GatherError or None): what stopped the run early (the folder, not one URL,
            was at fault: a link planted in --out); :meth:`main` raises it once settled.

    ``peers`` (with ``mpiexec ... --distributed``, :mod:`mlimages.gather.relay`): its
    ``others`` (Counter, label -> images the other ranks kept) counts towards ``--limit``
    (and its ``size``, the number of ranks, shares the requests in flight), and
    its ``start(run)`` is called before the first request and ``on_record(run, record)``
    after each record, both on the loop thread.
    """

    def __init__(self, source, out, past, opts, placeholders, resize_spec, validators,
                 progress, peers=None):
        self.source, self.out, self.past, self.opts = source, out, past, opts
        self.placeholders, self.resize_spec = placeholders, resize_spec
        self.counts, self.skipped, self.kept_bytes = Counter(), Counter(), 0
        self.ok = Counter(past.ok_per_label)
        self.seen = set()
        self.names = NameRegistry()
        for path, url in past.kept_paths:
            self.names.add(path, url)
        self.kept_sha1 = dict(past.kept_sha1)
        self.proxies = fetching.Proxies(opts.proxy)
        self.bar = _progress_bar() if progress else None
        self.validators, self.peers = validators, peers
        self.slots = self.fatal = None
        self.admissions = Admissions(opts.limit, peers.size if peers else 1, self._kept)
        self.staged_bytes, self.room = 0, None  # room: set while staged_bytes < BACKLOG_BYTES

    async def main(self):
        """Run until every item has settled (each request has a total deadline)."""
        self.room = asyncio.Event()
        self.room.set()
        connector = aiohttp.TCPConnector(limit=self.opts.parallel,
                                         limit_per_host=self.opts.per_host, ttl_dns_cache=300)
        headers = {"User-Agent": f"mlimages/{__version__} (image dataset gatherer)"}
        await self.validators.attach()
        if self.peers:
            self.peers.start(self)  # every rank's kept counts, before the first request
        with concurrent.futures.ThreadPoolExecutor(1, "gather-read") as reader:
            # No cookies (image hosts need none; the jar filters every request) and no
            # aiohttp timeout of its own: fetch.py gives each attempt one total deadline.
            async with aiohttp.ClientSession(
                    connector=connector, headers=headers, cookie_jar=aiohttp.DummyCookieJar(),
                    timeout=aiohttp.ClientTimeout(total=None)) as session:
                # A task per request in flight and per staged body that may wait for a
                # validator (BACKLOG), so that the HTTP slots stay busy while bodies wait.
                self.slots = Slots(self.opts.parallel, self.room)
                queue = asyncio.Queue(maxsize=2 * self.opts.parallel)
                tasks = [asyncio.create_task(self._worker(queue, session))
                         for _ in range(self.opts.parallel + BACKLOG)]
                # return_exceptions: one task's failure must not end the wait for the others
                finished = asyncio.gather(*tasks, return_exceptions=True)
                try:
                    await self._produce(queue, reader)
                    if self.fatal is not None:
                        _drain(queue)
                    await queue.put(None)  # the end mark: each task puts it back for the next
                    failures = await asyncio.shield(finished)  # an interrupt must not cancel
                except BaseException:
                    # Interrupted, in the producer or after it: finish what is in flight,
                    # leave the rest.
                    _drain(queue)
                    self.slots.close()  # the items tasks hold but have not requested yet
                    queue.put_nowait(None)
                    await finished
                    raise
                finally:
                    await self.validators.aclose()
                for failure in failures:
                    if isinstance(failure, BaseException):
                        raise failure
        if self.bar is not None:
            self.bar.close()
        if self.fatal is not None:
            raise self.fatal

    # ----------------------------------------------------------- producing
    async def _produce(self, queue, reader):
        loop = asyncio.get_running_loop()
        items = iter(self.source)
        while not self._limits_reached():
            batch = await loop.run_in_executor(reader, _take, items, _BATCH)
            if not batch:
                return
            for item in batch:
                if self.fatal is not None:
                    return
                if not self._skip(item):
                    await queue.put(item)

    def _skip(self, item):
        key = record_key(item.label, item.url)
        if key in self.seen:
            self.skipped["repeated"] += 1
            return True
        self.seen.add(key)
        status = self.past.status.get(key)
        if status is not None and not (self.opts.retry_failed and is_transient(status)):
            self.skipped["settled"] += 1
            return True
        if self.opts.limit and self._kept(item.label) >= self.opts.limit:
            self.skipped["limit"] += 1
            return True
        return False

    def _limits_reached(self):
        labels = self.source.labels
        return bool(self.opts.limit and labels and
                    all(self._kept(label) >= self.opts.limit for label in labels))

    def _kept(self, label):
        """Images of ``label`` kept by this run and earlier ones (and by the other ranks)."""
        return self.ok[label] + (self.peers.others[label] if self.peers else 0)

    # ----------------------------------------------------------- settling
    async def _worker(self, queue, session):
        while True:
            item = await queue.get()
            if item is None:
                queue.put_nowait(None)  # the end mark, back for the next task (its slot is free)
                return
            if not await self.admissions.acquire(item.label):
                self.skipped["limit"] += 1
                continue
            try:
                try:
                    record = await self._settle(item, session)
                except GatherError as e:  # the folder's fault: stop; the URL stays unsettled
                    self._stop(e)
                    continue
                except Closed:  # interrupted before its request: stays unsettled
                    continue
                except Exception as e:  # the per-item boundary: record what happened, go on
                    log.exception("unexpected failure on %s", item.url)
                    record = Record.failed(item, "error", f"{type(e).__name__}: {e}")
                try:
                    self._finish(record)  # counts the success before the limit gate reopens
                except OSError as e:  # the manifest cannot be written (disk full): stop
                    self._stop(GatherError(f"cannot write {self.out.manifest}: "
                                           f"{e.strerror or e}; free some space and run the "
                                           "same command again to resume"))
            finally:
                await self.admissions.release(item.label)

    def _stop(self, error):
        """The folder is at fault: end the run (no new request), then raise ``error``."""
        self.fatal = self.fatal or error
        self.slots.close()

    async def _settle(self, item, session):
        start = time.monotonic()
        staged = await self._fetch_and_stage(item, session)
        record = staged if isinstance(staged, Record) else await self._keep(item, *staged)
        record.elapsed = round(time.monotonic() - start, 3)
        return record

    async def _fetch_and_stage(self, item, session):
        """The URL's body in a staged file, ``(path, size)``, or the :class:`Record` of why
        not. Once this returns only the file holds the body: the bodies that wait for a
        validator (``BACKLOG``) wait on disk, not in memory."""
        problem = fetching.check_url(item.url)
        if problem:
            return Record.failed(item, "bad_url", problem)
        got = await fetching.fetch(session, item.url, self.opts, self.placeholders,
                                   self.proxies(item.url), self.slots)
        if got.status != "ok":
            return Record.failed(item, got.status, got.reason)
        try:
            return self.out.stage(got.body), len(got.body)
        except OSError as e:
            return Record.failed(item, "write_error", f"{e.strerror or e}", bytes=len(got.body))

    async def _keep(self, item, tmp, size):
        """Validate (in a worker process), name and store one staged body."""
        self._staged(size)
        try:
            verdict = await self.validators.check(tmp, item.url)
        except BaseException:
            self.out.discard(tmp)
            raise
        finally:
            self._staged(-size)
        if verdict.status != "ok":
            self.out.discard(tmp)
            return Record.failed(item, verdict.status, verdict.reason, bytes=size,
                                 sha1=verdict.sha1 or None)
        if self.opts.dedupe and verdict.sha1 in self.kept_sha1:
            self.out.discard(tmp)
            return Record.failed(item, "duplicate", f"same bytes as {self.kept_sha1[verdict.sha1]}",
                                 bytes=size, sha1=verdict.sha1)
        path = self._claim(item, verdict)
        if path is None:
            self.out.discard(tmp)
            return Record.failed(item, "bad_url", "no safe file name inside --out", bytes=size)
        try:
            self.out.commit(tmp, path)
        except OSError as e:
            self.out.discard(tmp)
            self.names.release(path, item.url)
            self.kept_sha1.pop(verdict.sha1, None)
            return Record.failed(item, "write_error", f"{path}: {e.strerror or e}", bytes=size)
        return Record(item.url, item.id, item.label, "ok", "", size, path, verdict.sha1)

    def _staged(self, change):
        """Count ``change`` bytes into the backlog; new requests wait while it is full."""
        self.staged_bytes += change
        if self.staged_bytes < BACKLOG_BYTES:
            self.room.set()
        else:
            self.room.clear()

    def _claim(self, item, verdict):
        """A file name for a kept image, or None if it would not be safe."""
        ext = ".jpg" if self.resize_spec else extension(verdict.format)
        path = self.names.claim(item.label, file_stem(item.url, item.id), ext, item.url)
        if not inside(self.out.root, path):  # cannot happen with safe names; never write
            self.names.release(path, item.url)
            return None
        if self.opts.dedupe:
            self.kept_sha1[verdict.sha1] = path
        return path

    def _finish(self, record):
        self.out.append(record)
        self.past.status[record_key(record.label, record.url)] = record.status
        self.counts[record.status] += 1
        if record.status == "ok":
            self.ok[record.label] += 1
            self.kept_bytes += record.bytes
        else:
            log.debug("%s %s %s", record.status, record.url, record.reason)
        if self.bar is not None:
            failed = sum(self.counts.values()) - self.counts["ok"]
            self.bar.set_postfix_str(f"ok={self.counts['ok']} failed={failed}", refresh=False)
            self.bar.update()
        if self.peers:
            self.peers.on_record(self, record)


def _progress_bar():
    # Imported here: without a bar (--quiet, the library's default) the import would only
    # delay the first request.
    from tqdm import tqdm
    return tqdm(unit="img", desc="gather", dynamic_ncols=True)


def _drain(queue):
    while not queue.empty():
        queue.get_nowait()


def _take(items, n):
    return list(itertools.islice(items, n))
