"""Validation in worker processes, talking to the event loop over pipes.

Workers in their own processes decode with no GIL to share with the event loop (why not a
thread pool, measured: benchmarks/RESULTS.md); the loop only writes each body to a temporary
file and exchanges one short JSON line per body with a worker (no extra threads in the loop's
process at all).  A worker that crashes on a hostile file costs that one body (status
``error``) and is restarted. A body whose validation takes longer than ``DECODE_DEADLINE``
seconds (counted from when its worker starts on it) is recorded ``too_complex``, its worker is
killed and replaced, and the bodies queued behind it are asked again of the new one.

Protocol (JSON lines): the first line to a worker is its settings, its first line back
``{"ready": true}`` once it has loaded them; then each request is ``{"path": temp file,
"name": url}`` and each answer a :class:`~.records.Verdict` as an object. With ``resize`` the
worker rewrites the temp file with the resized JPEG before answering.

A worker is a fresh interpreter (no thread of the event loop's process, no file descriptor but
its pipes: not the lock of ``--out``) in a process group of its own, ignoring SIGINT, SIGTERM,
SIGHUP and SIGTTOU: a Ctrl-C (or Ctrl-Z, Ctrl-\\), a closed terminal or a service's stop reaches
the event loop's process, which settles the run and ends its workers by closing their input.  A
worker dies with that process (Linux's ``PR_SET_PDEATHSIG``), even in the middle of a decode,
so after a ``kill -9`` nothing of the run is left; elsewhere it ends at the end of its input.

A worker runs at a lower priority (``NICE``) than the event loop: when they compete for the
CPU, the requests go out first and the bodies wait, staged, for the worker (``run.BACKLOG``),
which catches up while the requests wait on slow hosts. It stays in the event loop's session
(a group, not a new session) because Linux schedules each session as one group (autogroup):
in a session of its own a worker got a group's equal share whatever its nice value, and the
event loop (with anything else of its session) the other share (benchmarks/RESULTS.md,
2026-12-03, 10:40). Its deadline is far above what a lower priority costs: a worker gets a
tenth of a core or more against a busy event loop, and the loop waits once the backlog is full.
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
DECODE_DEADLINE = 30.0  # seconds; a legitimate body (up to Pillow's pixel limit) needs a few
NICE = 10  # added to a worker's nice value: below the event loop's priority
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def settings_for(opts):
    """What a worker needs from GatherOptions (a JSON-able dict)."""
    size = opts.resize
    if isinstance(size, int):
        size = (size, size)
    return {"min_size": opts.min_size, "placeholders": [str(p) for p in opts.placeholder],
            "resize": list(size) if size else None, "resize_mode": opts.resize_mode,
            "quality": opts.quality, "decode_deadline": DECODE_DEADLINE}


_CRASHED = Verdict("error", "the decoding process crashed on this file (or was killed)", "")


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
        verdict = None
        while verdict is None:  # None: it was queued behind a body that overran; ask again
            verdict = await (await self._pick()).ask(path, name)
        return verdict

    async def _pick(self):
        """The least busy worker, replaced first if it has died."""
        index = min(range(len(self.workers)), key=lambda i: len(self.workers[i].pending))
        worker = self.workers[index]
        if worker.dead:
            worker.kill()
            worker = self.workers[index] = _Worker(self.settings)
            await worker.attach()
        return worker

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
            process_group=0)
        self.proc.stdin.write(json.dumps(settings).encode() + b"\n")
        self.proc.stdin.flush()
        self.deadline = settings.get("decode_deadline")
        self.pending = collections.deque()
        self.writer = self.reading = self.timer = None
        self.attached = asyncio.Event()  # set once attach() has connected the pipes
        self.dead = self.ready = self.overran = False

    async def attach(self):
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=_LIMIT)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                     self.proc.stdout)
        transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                            self.proc.stdin)
        self.writer = asyncio.StreamWriter(transport, protocol, None, loop)
        self.reading = asyncio.create_task(self._read(reader))
        self.attached.set()

    async def ask(self, path, name):
        await self.attached.wait()  # a replacement may still be connecting
        answer = asyncio.get_running_loop().create_future()
        self.pending.append(answer)
        self.writer.write(json.dumps({"path": path, "name": name}).encode() + b"\n")
        if len(self.pending) == 1:
            self._start_clock()
        return await answer

    def _start_clock(self):
        """Give the request at the head of the queue ``deadline`` seconds from now."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.ready and self.pending and self.deadline and not self.dead:
            loop = asyncio.get_running_loop()
            self.timer = loop.call_later(self.deadline, self._overrun, self.pending[0])

    def _overrun(self, answer):
        """The head request ran out of time: answer it, kill the process (``_read`` then
        hands the requests behind it back to ``check``)."""
        if not answer.done():  # (a cancelled caller leaves the process just as stuck)
            answer.set_result(Verdict("too_complex", f"validating took over {self.deadline:g} "
                                      "s; the decoding process was replaced", ""))
        self.overran = self.dead = True
        self.proc.kill()
        self.writer.close()

    async def _read(self, reader):
        self.ready = bool(await reader.readline())
        self._start_clock()
        while line := await reader.readline():
            answer = self.pending.popleft()
            if not answer.done():
                fields = json.loads(line)
                size = fields.pop("size")
                answer.set_result(Verdict(**fields, size=tuple(size) if size else None))
            self._start_clock()
        self.dead = True
        self._start_clock()  # cancels the timer
        while self.pending:  # killed for the head's deadline, or a crash in a decoder
            answer = self.pending.popleft()
            if not answer.done():
                answer.set_result(None if self.overran else _CRASHED)

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
    """The worker's loop: settings line, ready line, then one answer per request line, in order."""
    from mlimages.gather import validate  # noqa: F401  (loaded before "ready")
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
    out.write(b'{"ready": true}\n')
    out.flush()
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
    """Leave the signals to the process that feeds this worker, die with it, and yield the CPU
    to it."""
    # SIGTTOU: a background group's write to a terminal set to `stty tostop` would stop it.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTTOU):
        signal.signal(sig, signal.SIG_IGN)
    try:
        os.nice(NICE)
    except OSError:  # not allowed here: the normal priority only costs some speed
        pass
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
    # Every answer is flushed and nothing else is kept: end without the interpreter's teardown
    # (NumPy, Pillow: tens of milliseconds the run's end waits for in aclose).
    answers.close()
    sys.stderr.flush()
    os._exit(0)
