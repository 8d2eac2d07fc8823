"""A real HTTP server on 127.0.0.1 for the gather tests: good images and every broken kind.

Routes are sequences of canned answers: each request takes the next one and the last one
repeats, so "500 then 200" is ``[Answer(500), Answer(200, jpeg)]``.
"""

import base64
import http.server
import io
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image, ImageDraw

PLACEHOLDER_PATH = "/pw/images/en-us/photo_unavailable.png"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0          # seconds before answering (a hang when past the timeout)
    length: bool = True         # send Content-Length (else: close-delimited body)
    reset: bool = False         # close the connection without any answer


def image_bytes(size=(64, 48), fmt="JPEG", seed=0, quality=90):
    """A noisy RGB image encoded as ``fmt``."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(data, "RGB").save(out, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return out.getvalue()


def placeholder_image(size=(500, 374), text="This photo is no longer available"):
    """A stand-in for Flickr's placeholder (the real one cannot be fetched offline)."""
    im = Image.new("RGB", size, (226, 226, 226))
    draw = ImageDraw.Draw(im)
    w, h = size
    draw.rectangle((w * 0.35, h * 0.25, w * 0.65, h * 0.55), fill=(160, 160, 160))
    draw.ellipse((w * 0.45, h * 0.32, w * 0.55, h * 0.48), fill=(226, 226, 226))
    draw.text((w * 0.2, h * 0.7), text, fill=(90, 90, 90))
    return im


def png_bytes(im):
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


class Site:
    """What the server answers; ``hits`` counts requests per path."""

    def __init__(self, latency=0.0):
        self.routes, self.hits, self.latency = {}, Counter(), latency
        self.default = [Answer(404, b"not found")]
        self.lock = threading.Lock()
        self.port = None
        self.add(PLACEHOLDER_PATH, Answer(200, png_bytes(placeholder_image()),
                                          {"Content-Type": "image/png"}))

    def add(self, path, *answers):
        self.routes[path] = list(answers)
        return self.url(path)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def next_answer(self, raw_path):
        candidates = (raw_path, unquote(raw_path))
        with self.lock:
            key = next((c for c in candidates if c in self.routes), candidates[-1])
            self.hits[key] += 1
            answers = self.routes.get(key, self.default)
            return answers.pop(0) if len(answers) > 1 else answers[0]


def _handler(site):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            answer = site.next_answer(self.path)
            time.sleep(site.latency + answer.delay)
            if answer.reset:
                self.close_connection = True
                return
            self.send_response(answer.status)
            for k, v in answer.headers.items():
                self.send_header(k, v)
            if answer.length:
                self.send_header("Content-Length", str(len(answer.body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            try:
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    return Handler


class ProxyCheck(Site):
    """A forward proxy: answers absolute-URI requests itself, if the credentials match."""

    def __init__(self, user, password):
        super().__init__()
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.seen_auth = []


def _proxy_handler(proxy):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            proxy.seen_auth.append(self.headers.get("Proxy-Authorization"))
            ok = self.headers.get("Proxy-Authorization") == proxy.auth
            body = proxy.routes.get(self.path, [Answer(404)])[0].body if ok else b""
            self.send_response((200 if body else 404) if ok else 407)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gives up (timeout, killed run) resets its connection: expected here.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def serve(site, handler_factory=_handler):
    """Start ``site`` on 127.0.0.1 (a free port) in a thread; returns the server."""
    server = _Server(("127.0.0.1", 0), handler_factory(site))
    server.daemon_threads = True
    site.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def site():
    """A fresh :class:`Site` served on 127.0.0.1 for one test."""
    s = Site()
    server = serve(s)
    yield s
    server.shutdown()
    server.server_close()


@pytest.fixture
def slow_site():
    """A :class:`Site` that adds 50 ms to every request (for the kill-and-resume test)."""
    s = Site(latency=0.05)
    server = serve(s)
    yield s
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy():
    """A forward proxy on 127.0.0.1 that wants user "me", password "secret"."""
    p = ProxyCheck("me", "secret")
    server = serve(p, _proxy_handler)
    yield p
    server.shutdown()
    server.server_close()
