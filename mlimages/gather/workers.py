"""Validation in worker processes, talking to the event loop over pipes.

Workers in their own processes decode with no GIL to share with the event loop (why not a
thread pool, measured: benchmarks/RESULTS.md); the loop only writes each body to a temporary
file and exchanges one short JSON line per body with a worker (no extra threads in the loop's
process at all).  A worker that crashes on a hostile file costs that one body (status
``error``) and is restarted.

Protocol (JSON lines): the first line to a worker is its settings; then each request is
``{"path": temp file, "name": url}`` and each answer a :class:`~.records.Verdict` as an object.
With ``resize`` the worker rewrites the temp file with the resized JPEG before answering.

A worker is a fresh interpreter (no thread of the event loop's process, no file descriptor but
its pipes: not the lock of ``--out``) in a session of its own, ignoring SIGINT, SIGTERM and
SIGHUP: a Ctrl-C, a closed terminal or a service's stop reaches the event loop's process, which
settles the run and ends its workers by closing their input.  A worker dies with that process
(Linux's ``PR_SET_PDEATHSIG``), even in the middle of a decode, so after a ``kill -9`` nothing
of the run is left; elsewhere it ends at the end of its input.
"""

import asyncio
import collections
import ctypes
import json
import os
import signal
import subprocess
import sys

from mlimages.gather.records import Verdict

_LIMIT = 1 << 20  # longest answer line
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def settings_for(opts):
    """What a worker needs from GatherOptions (a JSON-able dict)."""
    size = opts.resize
    if isinstance(size, int):
        size = (size, size)
    return {"min_size": opts.min_size, "placeholders": [str(p) for p in opts.placeholder],
            "resize": list(size) if size else None, "resize_mode": opts.resize_mode,
            "quality": opts.quality}


class Validators:
    """``n`` worker processes; in the event loop, ``await check(path, name)`` -> Verdict.

    The processes are started at construction, so their imports overlap the caller's start-up;
    ``await attach()`` connects them to the running loop, ``await aclose()`` ends them, and
    ``kill()`` (idempotent) is the last resort when the loop never ran or failed.
    """

    def __init__(self, n, settings):
        self.settings = settings
        self.workers = [_Worker(settings) for _ in range(max(1, n))]

    async def attach(self):
        for worker in self.workers:
            await worker.attach()

    async def check(self, path, name):
        """Validate the file at ``path`` (and resize it in place when asked)."""
        index = min(range(len(self.workers)), key=lambda i: len(self.workers[i].pending))
        worker = self.workers[index]
        if worker.dead:
            worker.kill()
            worker = self.workers[index] = _Worker(self.settings)
            await worker.attach()
        return await worker.ask(path, name)

    async def aclose(self):
        for worker in self.workers:
            await worker.aclose()

    def kill(self):
        for worker in self.workers:
            worker.kill()


class _Worker:
    def __init__(self, settings):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlimages.gather.workers", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
            start_new_session=True)
        self.proc.stdin.write(json.dumps(settings).encode() + b"\n")
        self.proc.stdin.flush()
        self.pending = collections.deque()
        self.writer = self.reading = None
        self.dead = False

    async def attach(self):
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=_LIMIT)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                     self.proc.stdout)
        transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                            self.proc.stdin)
        self.writer = asyncio.StreamWriter(transport, protocol, None, loop)
        self.reading = asyncio.create_task(self._read(reader))

    async def ask(self, path, name):
        answer = asyncio.get_running_loop().create_future()
        self.pending.append(answer)
        self.writer.write(json.dumps({"path": path, "name": name}).encode() + b"\n")
        return await answer

    async def _read(self, reader):
        while line := await reader.readline():
            answer = self.pending.popleft()
            if not answer.done():
                fields = json.loads(line)
                size = fields.pop("size")
                answer.set_result(Verdict(**fields, size=tuple(size) if size else None))
        self.dead = True
        while self.pending:  # the worker died (a crash in a decoder): fail what it held
            answer = self.pending.popleft()
            if not answer.done():
                answer.set_result(Verdict("error", "the decoding process crashed on this "
                                          "file (or was killed)", ""))

    async def aclose(self):
        if self.writer is not None:
            self.writer.close()  # end of input: the worker finishes and exits
            await self.reading
        self.kill()

    def kill(self):
        if self.proc.poll() is None and self.writer is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def serve(inp, out):
    """The worker's loop: settings line, then one answer per request line, in order."""
    from mlimages.gather.placeholders import load_placeholders
    from mlimages.image import ImageSpec

    first = inp.readline()
    if not first:
        return  # started and ended without work
    settings = json.loads(first)
    rules = load_placeholders(settings["placeholders"])
    spec = None
    if settings["resize"]:
        spec = ImageSpec(size=tuple(settings["resize"]), resize=settings["resize_mode"])
    for line in inp:
        request = json.loads(line)
        try:
            verdict = _check_file(request["path"], request["name"], settings, rules, spec)
        except Exception as e:  # the per-body boundary: answer it, keep serving
            verdict = Verdict("error", f"{type(e).__name__}: {e}", "")
        out.write(json.dumps(verdict._asdict()).encode() + b"\n")
        out.flush()


def _check_file(path, name, settings, rules, spec):
    from mlimages.gather.validate import check_body, reencode

    with open(path, "rb") as f:
        body = f.read()
    verdict = check_body(body, name, settings["min_size"], rules)
    if verdict.status == "ok" and spec is not None:
        data = reencode(body, name, spec, settings["quality"])
        with open(path, "wb") as f:
            f.write(data)
    return verdict


def follow_parent(parent):
    """Leave the signals to the process that feeds this worker, and die with it."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before prctl: no one will read the answers
        sys.exit(0)


if __name__ == "__main__":
    follow_parent(int(sys.argv[1]))
    # Answers go to the real stdout; anything a library prints goes to stderr instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)
