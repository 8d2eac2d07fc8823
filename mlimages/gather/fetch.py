"""HTTP: one URL -> a body or a failure status, with a total deadline and bounded retries.

Untrusted hosts are assumed: each attempt has one total deadline (a trickle cannot stretch it),
only http and https are requested or followed, and ``max_bytes`` caps both the bytes received
and what they decode to (gzip and deflate are undone here, in steps that never produce more
than the cap allows: a compression bomb costs no more memory than an honest body).

asyncio + aiohttp rather than requests in threads (the measurements: benchmarks/RESULTS.md).
"""

import asyncio
import concurrent.futures
import email.utils
import re
import time
import urllib.request
import zlib
from typing import NamedTuple
from urllib.parse import urlsplit

import aiohttp
import yarl

from mlimages.gather.records import is_transient
from mlimages.gather.slots import Slots

MAX_REDIRECTS = 10
MAX_WAIT = 60.0   # the longest backoff or Retry-After we sleep; a longer Retry-After settles
# The Content-Encodings _Decoder undoes, asked for explicitly (aiohttp would also offer br and
# zstd when their modules are installed); aiohttp's own decoding is switched off.
ACCEPT_ENCODING = "gzip, deflate"
_HEADERS = {"Accept-Encoding": ACCEPT_ENCODING}
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_HTTP = ("http", "https")
_ZLIB_WBITS = {"gzip": 32 + zlib.MAX_WBITS, "x-gzip": 32 + zlib.MAX_WBITS,
               "deflate": zlib.MAX_WBITS}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Fetched(NamedTuple):
    """What one URL gave after retries.

    Attributes:
        status (str): "ok" (a 200 body within the byte cap) or a failure status.
        reason (str): details for people.
        body (bytes): the body ("ok" only).
        final_url (str): where redirects ended.
        attempts (int): requests made.
    """

    status: str
    reason: str
    body: bytes = b""
    final_url: str = ""
    attempts: int = 1


def check_url(url):
    """None if ``url`` can be requested, else why not (only http and https are fetched)."""
    try:
        parts = urlsplit(url)
    except ValueError as e:
        return f"unparsable URL: {e}"
    if parts.scheme.lower() not in _HTTP:
        return f"scheme {parts.scheme or 'missing'!r}: only http and https are fetched"
    if not parts.hostname:
        return "no host name"
    if _CONTROL.search(url):
        return "control characters in the URL"
    return None


class Proxies:
    """The proxy for each URL: ``--proxy``, else the environment's, read once.

    HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY (any case), as requests and curl read them.
    Not aiohttp's own ``trust_env``, which reads ``~/.netrc`` and the environment in a worker
    thread for every request (what that costs: benchmarks/RESULTS.md).
    """

    def __init__(self, proxy=None):
        self.fixed = proxy
        self.env = {} if proxy else urllib.request.getproxies_environment()
        self._by_origin = {}

    def __call__(self, url):
        """The proxy URL for ``url``, or None for a direct connection."""
        if self.fixed or not self.env:
            return self.fixed
        parts = urlsplit(url)
        origin = (parts.scheme.lower(), parts.netloc)
        if origin not in self._by_origin:
            proxy = self.env.get(origin[0]) or self.env.get("all")
            bypass = proxy and urllib.request.proxy_bypass_environment(parts.hostname or "",
                                                                       self.env)
            self._by_origin[origin] = None if bypass else proxy
        return self._by_origin[origin]


async def fetch(session, url, opts, placeholders=None, proxy=None, slots=None):
    """GET ``url``; retry transient failures (timeouts, resets, 5xx, 429) with backoff.

    Args:
        session (aiohttp.ClientSession): shared, so connections are reused.
        url (str): an http(s) URL (see :func:`check_url`).
        opts: has ``timeout`` (total seconds per attempt), ``retries``, ``backoff`` (seconds,
            doubled per retry), ``max_bytes`` (cap on the bytes received and on the bytes
            they decode to).
        placeholders (Placeholders or None): a known placeholder's URL (listed, or redirected
            to) settles at once, without a request.
        proxy (str or None): the proxy URL (see :class:`Proxies`).
        slots (:class:`mlimages.gather.slots.Slots` or None: one slot of its own): held
            during each attempt (not while backing off), so it bounds the requests in flight;
            the deadline starts once a slot is held. Once they are closed (the run stops), no
            attempt starts and a backoff ends at once (:class:`~mlimages.gather.slots.Closed`).

    Returns:
        Fetched
    """
    attempt = 0
    slots = slots or Slots(1)
    while True:
        async with slots:
            result, wait = await _attempt(session, url, opts, placeholders, proxy, attempt)
        result = result._replace(attempts=attempt + 1)
        if not is_transient(result.status) or attempt >= opts.retries or wait is None:
            return result
        await slots.pause(wait)
        attempt += 1


def fetch_now(url, opts, proxy=None):
    """:func:`fetch` for synchronous code: its own session, in a thread and event loop of its
    own (so it also works where a loop is running).  Returns :class:`Fetched`."""
    async def one():
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                         timeout=aiohttp.ClientTimeout(total=None)) as session:
            return await fetch(session, url, opts, proxy=proxy)

    with concurrent.futures.ThreadPoolExecutor(1, "mlimages-fetch") as pool:
        return pool.submit(asyncio.run, one()).result()


def _backoff(opts, attempt):
    return min(MAX_WAIT, opts.backoff * 2 ** attempt)


async def _attempt(session, url, opts, placeholders, proxy, attempt):
    """One request and its redirects: (Fetched, seconds before a retry or None for none)."""
    backoff = _backoff(opts, attempt)
    try:
        async with asyncio.timeout(opts.timeout):
            return await _follow(session, url, opts, placeholders, proxy, backoff)
    except TimeoutError:
        return Fetched("timeout", f"no complete answer within {opts.timeout:g} s"), backoff
    except (aiohttp.InvalidURL, ValueError) as e:
        return Fetched("bad_url", f"{type(e).__name__}: {e}"), None
    except (aiohttp.ClientError, OSError) as e:
        return Fetched("connection_error", f"{type(e).__name__}: {e}".strip()), backoff


async def _follow(session, url, opts, placeholders, proxy, backoff):
    """GET ``url``, then where its redirects lead (``MAX_REDIRECTS`` requests at most): a URL
    that is a known placeholder, listed or redirected to, and a redirect to another scheme
    settle without being asked."""
    url = yarl.URL(url)
    for _ in range(MAX_REDIRECTS):
        rule = placeholders.match_url(str(url)) if placeholders is not None else None
        if rule:
            return Fetched("placeholder", rule, final_url=str(url)), None
        async with session.get(url, proxy=proxy, allow_redirects=False, headers=_HEADERS,
                               auto_decompress=False) as resp:
            target = _redirect(resp, url)
            if target is None:
                return await _answer(resp, opts, backoff)
        if target.scheme not in _HTTP:
            return Fetched("bad_url", f"redirect to {str(target)[:200]}: only http and https "
                           "are followed"), None
        url = target
    return Fetched("too_many_redirects", f"more than {MAX_REDIRECTS} redirects"), None


def _redirect(resp, asked):
    """Where the answer to ``asked`` (a ``yarl.URL``) redirects to, resolved against it;
    None for any other answer (a 3xx without a Location is an answer)."""
    if resp.status not in _REDIRECTS:
        return None
    location = resp.headers.get("Location") or resp.headers.get("URI")
    if location is None:
        return None
    target = asked.join(yarl.URL(location))  # ValueError (not a URL): bad_url
    if target.scheme in _HTTP and not target.user and target.origin() == asked.origin():
        # the same site: the URL's credentials go on, as the client sends them
        target = target.with_user(asked.user).with_password(asked.password)
    return target


async def _answer(resp, opts, backoff):
    final = str(resp.url)
    status = resp.status
    if status == 200:
        return await _body(resp, opts.max_bytes, final), None
    reason = f"HTTP {status} {resp.reason or ''}".strip()
    if status == 429:
        wait = _retry_after(resp.headers.get("Retry-After"), backoff)
        return Fetched("http_429", reason, final_url=final), wait
    if 500 <= status <= 599:
        return Fetched("http_5xx", reason, final_url=final), backoff
    return Fetched(f"http_{status}", reason, final_url=final), None


async def _body(resp, max_bytes, final):
    """Read a 200 body, undoing its Content-Encoding; give up as soon as the bytes received
    or the bytes decoded pass ``max_bytes``."""
    declared = resp.content_length
    if declared is not None and declared > max_bytes:
        return Fetched("too_large", f"Content-Length {declared} > --max-bytes {max_bytes}",
                       final_url=final)
    encoding = resp.headers.get("Content-Encoding", "").strip().lower() or "identity"
    if encoding != "identity" and encoding not in _ZLIB_WBITS:
        return Fetched("unsupported", f"Content-Encoding {encoding!r}: only gzip and deflate "
                       "are decoded", final_url=final)
    if encoding == "identity" and declared is not None:
        # The parser stops at Content-Length (within the cap): no need to count chunk by chunk.
        return Fetched("ok", "", await resp.content.read(), final)
    decoder = _Decoder(encoding)
    body, received = bytearray(), 0
    try:
        async for chunk in resp.content.iter_any():
            received += len(chunk)
            body += decoder.decode(chunk, max_bytes - len(body))
            if received > max_bytes or len(body) > max_bytes:
                return Fetched("too_large", f"body over --max-bytes {max_bytes}"
                               + (f" once decoded ({encoding})" if received <= max_bytes else ""),
                               final_url=final)
    except zlib.error as e:
        return Fetched("corrupt", f"Content-Encoding {encoding}: {e}", final_url=final)
    if not decoder.finished:
        return Fetched("truncated", f"Content-Encoding {encoding}: the compressed data stops "
                       "early", final_url=final)
    return Fetched("ok", "", bytes(body), final)


class _Decoder:
    """Undoes one Content-Encoding step by step, never making more than it is allowed.

    ``identity`` passes bytes through; ``gzip`` (members one after another) and ``deflate``
    (zlib-wrapped, or raw as some servers send it) go through zlib with ``max_length``.
    """

    def __init__(self, encoding):
        self.encoding = encoding
        self._zlib = None          # the stream being decoded, from its first byte to its end

    def decode(self, data, room):
        """The bytes ``data`` decodes to: all of them, or ``room + 1`` when there are more.

        Raises:
            zlib.error: the data is not valid for the encoding.
        """
        if self.encoding == "identity":
            return data
        out = []
        while data and room >= 0:
            if self._zlib is None:
                self._zlib = zlib.decompressobj(self._wbits(data))
            piece = self._zlib.decompress(data, room + 1)  # 0 would mean "no limit"
            out.append(piece)
            room -= len(piece)
            if not self._zlib.eof:
                break              # all input taken, or the output is over the room
            data, self._zlib = self._zlib.unused_data, None   # a next gzip member, or junk
        return b"".join(out)

    @property
    def finished(self):
        """True unless a compressed stream was started and not ended."""
        return self.encoding == "identity" or self._zlib is None

    def _wbits(self, first):
        if self.encoding == "deflate" and first[0] & 0x0F != 8:   # no RFC 1950 header: raw
            return -zlib.MAX_WBITS
        return _ZLIB_WBITS[self.encoding]


def _retry_after(value, default):
    """Seconds to wait from a Retry-After header (seconds or HTTP date); None: too long."""
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        seconds = when.timestamp() - time.time()
    seconds = max(0.0, seconds)
    return seconds if seconds <= MAX_WAIT else None
