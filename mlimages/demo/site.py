"""The one fake image host: an HTTP server on 127.0.0.1 for the demo, the tests and the benchmarks.

A :class:`Site` answers each path with the :class:`Answer` sequence registered for it, one
answer per request and the last one repeating (``Answer(500), photo(body)``: a 500, then the
photo from then on); a path nobody registered answers ``site.default`` (a 404).  The named
routes are what real image hosts answer, each a function that returns an :class:`Answer`:

========================  ===============================================================
``photo(body)``           200 with ``body``: bytes, or a file (a Path) read at each request
``not_found()``           404, a dead link (also what an unregistered path answers)
``gone()``                410
``hang(seconds)``         nothing until the site closes or ``seconds`` (HANG_SECONDS) pass,
                          then a close without an answer
``html_page()``           200 with an HTML "not found" page instead of an image
``truncated(body)``       200 with the first half of ``body`` (a cut JPEG)
``to_placeholder()``      302 to :data:`PLACEHOLDER_PATH`
``placeholder()``         200 with :func:`placeholder_png`, served at PLACEHOLDER_PATH by
                          every site
``ranged(body)``          200 with ``body``, or 206 with its tail for ``Range: bytes=N-``
                          (416 past the end): a file server that resumes downloads
========================  ===============================================================

Usage::

    with Site(latency=0.02) as site:                    # 20 ms before every answer
        url = site.add("/a.jpg", photo(Path("a.jpg")))  # "http://127.0.0.1:PORT/a.jpg"
        site.add("/b.jpg", Answer(429, headers={"Retry-After": "1"}), photo(b"..."))
        site.add("/c.jpg", Answer(200, b"...", trickle=0.2))  # one byte every 0.2 s
        ...                                             # site.url(): the base URL
        site.hits["/a.jpg"]                             # requests seen per path

``Site(proxy_auth=(user, password))`` acts as a forward proxy instead: requests carry absolute
URLs as their paths, and any without those credentials gets a 407.  The server runs in a daemon
thread with daemon handler threads; leaving the ``with`` block wakes every waiting answer and
closes the socket.  Pillow is imported only where an image is made, NumPy never.
"""

import base64
import functools
import io
import os
import random
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

PLACEHOLDER_PATH = "/pw/images/en-us/photo_unavailable.png"  # Flickr's, on this host
HANG_SECONDS = 30
JPEG, PNG = {"Content-Type": "image/jpeg"}, {"Content-Type": "image/png"}
TEXT, HTML = {"Content-Type": "text/plain"}, {"Content-Type": "text/html"}
BINARY = {"Content-Type": "application/octet-stream"}


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the site."""
    status: int = 200
    body: bytes | os.PathLike = b""  # a Path is read at each request
    headers: dict = field(default_factory=dict)
    delay: float = 0.0               # seconds before answering (a hang when past the timeout)
    length: bool = True              # send Content-Length (else: a close-delimited body)
    reset: bool = False              # close the connection without any answer
    chunked: bool = False            # Transfer-Encoding: chunked, 64 KiB chunks (no length)
    trickle: float = 0.0             # seconds between body bytes, sent one at a time
    ranges: bool = False             # answer "Range: bytes=N-" with 206 and the tail

    def read(self):
        """The body's bytes."""
        return Path(self.body).read_bytes() if isinstance(self.body, os.PathLike) else self.body


# ------------------------------------------------------------------ named routes
def photo(body, headers=JPEG):
    return Answer(200, body, headers)


def not_found():
    return Answer(404, b"not found", TEXT)


def gone():
    return Answer(410, b"gone", TEXT)


def hang(seconds=HANG_SECONDS):
    return Answer(delay=seconds, reset=True)


def html_page():
    return Answer(200, b"<html><body>Not found</body></html>", HTML)


def truncated(body):
    return Answer(200, body[: len(body) // 2], JPEG)


def ranged(body, headers=BINARY):
    return Answer(200, body, headers, ranges=True)


def to_placeholder():
    return Answer(302, headers={"Location": PLACEHOLDER_PATH})


def placeholder():
    return Answer(200, placeholder_png(), PNG)


# ------------------------------------------------------------------ generated bodies
def image_bytes(size=(64, 48), fmt="JPEG", seed=0, quality=90):
    """A noisy RGB image of ``size`` (w, h) encoded as ``fmt``; the same for the same seed."""
    from PIL import Image
    w, h = size
    im = Image.frombytes("RGB", size, random.Random(seed).randbytes(w * h * 3))
    out = io.BytesIO()
    im.save(out, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return out.getvalue()


def placeholder_image(size=(500, 374), text="This photo is no longer available"):
    """A PIL stand-in for Flickr's placeholder (the real one cannot be fetched offline)."""
    from PIL import Image, ImageDraw
    im = Image.new("RGB", size, (226, 226, 226))
    draw = ImageDraw.Draw(im)
    w, h = size
    draw.rectangle((w * 0.35, h * 0.25, w * 0.65, h * 0.55), fill=(160, 160, 160))
    draw.ellipse((w * 0.45, h * 0.32, w * 0.55, h * 0.48), fill=(226, 226, 226))
    draw.text((w * 0.2, h * 0.7), text, fill=(90, 90, 90))
    return im


def png_bytes(im):
    """PIL image -> PNG bytes."""
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


@functools.cache
def placeholder_png():
    """The bytes every site serves at :data:`PLACEHOLDER_PATH`."""
    return png_bytes(placeholder_image())


# ------------------------------------------------------------------ the host
class Site:
    """The fake image host on 127.0.0.1 (a free port), in a thread; a context manager.

    Args:
        latency (float): seconds added before every answer.
        proxy_auth: ``(user, password)`` to act as a forward proxy that wants them.

    Attributes:
        routes: ``{path: [Answer, ...]}``, what :meth:`add` registered.
        default: the answers of a path not in ``routes``.
        hits (Counter): requests per path (the registered spelling, else the unquoted one).
        seen_auth (list): the Proxy-Authorization header of each request, as a proxy.
        seen_ranges (list): the Range header of each request (None: none sent).
    """

    def __init__(self, latency=0.0, proxy_auth=None):
        self.latency, self.hits, self.seen_auth, self.seen_ranges = latency, Counter(), [], []
        self.routes = {PLACEHOLDER_PATH: [placeholder()]}
        self.default = [not_found()]
        self.proxy_auth = _basic_auth(*proxy_auth) if proxy_auth else None
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._httpd = self._thread = None

    def add(self, path, *answers):
        """Answer requests for ``path`` with ``answers`` in turn (the last repeats); its URL."""
        self.routes[path] = list(answers)
        return self.url(path)

    def url(self, path=""):
        """The URL of ``path`` on this site (an absolute URL, for a proxy, is returned as is)."""
        return path if "://" in path else f"http://127.0.0.1:{self.port}{path}"

    @property
    def port(self):
        return self._httpd.server_address[1]

    def take(self, raw_path, auth=None):
        """The next answer for a request of ``raw_path``, counted in ``hits``."""
        if self.proxy_auth:
            self.seen_auth.append(auth)
            if auth != self.proxy_auth:
                return Answer(407)
        candidates = (raw_path, unquote(raw_path))
        with self._lock:
            key = next((c for c in candidates if c in self.routes), candidates[-1])
            self.hits[key] += 1
            answers = self.routes.get(key, self.default)
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def wait(self, seconds):
        """Sleep ``latency + seconds``, or less if the site shuts down."""
        self._stop.wait(self.latency + seconds)

    def stopped(self, seconds):
        """Sleep ``seconds`` (no latency added); True if the site is shutting down."""
        return self._stop.wait(seconds)

    def __enter__(self):
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


def _pieces(body, size):
    return (body[i:i + size] for i in range(0, len(body), size))


def _range_answer(answer, header):
    """``answer`` (a :func:`ranged` one) as a 206 with the tail ``Range: bytes=N-`` asks for."""
    body, start = answer.read(), header[6:-1] if header and header.endswith("-") else ""
    if not (header or "").startswith("bytes=") or not start.isdigit():
        return answer
    if int(start) >= len(body):
        return Answer(416, headers={"Content-Range": f"bytes */{len(body)}"})
    headers = {**answer.headers, "Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"}
    return Answer(206, body[int(start):], headers)


def _basic_auth(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024    # a benchmark opens dozens of connections at once

    def handle_error(self, request, client_address):
        # A client that gives up (timeout, killed run) resets its connection: expected here.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def _handler(site):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY as real hosts: else a body waits ~40 ms for the ACK of its headers
        disable_nagle_algorithm = True

        def log_message(self, *args):    # keep the demo's and the tests' output readable
            pass

        def do_GET(self):
            answer = site.take(self.path, self.headers.get("Proxy-Authorization"))
            site.seen_ranges.append(self.headers.get("Range"))
            if answer.ranges:
                answer = _range_answer(answer, self.headers.get("Range"))
            site.wait(answer.delay)
            if answer.reset:
                self.close_connection = True
            else:
                self._send(answer)

        def _send(self, answer):
            body = answer.read()
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            if answer.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            elif answer.length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            try:
                self._write(answer, body)
            except (BrokenPipeError, ConnectionResetError):
                pass                     # the client gave up (a hang, by design)

        def _write(self, answer, body):
            size = 1 if answer.trickle else (1 << 16) if answer.chunked else len(body) or 1
            for piece in _pieces(body, size):
                if answer.trickle and site.stopped(answer.trickle):
                    self.close_connection = True
                    return
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if answer.chunked
                                 else piece)
            if answer.chunked:
                self.wfile.write(b"0\r\n\r\n")

    return Handler
