"""The hostile image host: what an attacker's server answers, on 127.0.0.1 only.

Built on the one fake host (:class:`mlimages.demo.site.Site`); every answer is an
:class:`~mlimages.demo.site.Answer` (its ``chunked`` and ``trickle`` exist for this module).
:func:`hostile_routes` lists each route with the status gather must record for it, so a test
can serve them all::

    with Site() as site:
        expect = serve(site, hostile_routes())   # {url: status} under LIMITS
        route("/trickle.jpg").accepts("timeout")  # True

The bodies are small on the wire and built in memory (no committed files); their decoded
sizes are parameters so that a test can pair a small bomb with a small ``--max-bytes``.
"""

import io
import struct
import zlib
from typing import Callable, NamedTuple

from mlimages.demo.site import JPEG, PNG, Answer, image_bytes

BOMB_BYTES = 32 << 20          # decoded size of the compression bombs (32 MiB of zeros)
TRICKLE_SECONDS = 0.2          # between two bytes of the trickling body
SCAN_BOMB_SCANS = 5000         # repeated AC scans of the scan-bomb JPEG
# The gather options the statuses of hostile_routes hold for: bombs over the byte cap, the
# trickle past the deadline, no retries (every route answers the same each time).
LIMITS = dict(max_bytes=1_000_000, timeout=1.0, retries=0, backoff=0.05)


# ------------------------------------------------------------------ bodies
def gzip_bomb(size=BOMB_BYTES):
    """``size`` zero bytes, gzip-compressed (about size / 1000 bytes on the wire)."""
    pack = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return _zeros_through(pack, size)


def deflate_bomb(size=BOMB_BYTES):
    """``size`` zero bytes as HTTP ``deflate`` (zlib-wrapped, RFC 1950)."""
    return _zeros_through(zlib.compressobj(9), size)


def _zeros_through(pack, size):
    block, out = bytes(1 << 20), []
    for start in range(0, size, len(block)):
        out.append(pack.compress(block[: size - start]))
    out.append(pack.flush())
    return b"".join(out)


def gzipped(body):
    """``body`` gzip-compressed (a well-behaved server's Content-Encoding: gzip)."""
    pack = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return pack.compress(body) + pack.flush()


def raw_deflated(body):
    """``body`` as raw deflate, no zlib header (what some servers send as ``deflate``)."""
    pack = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return pack.compress(body) + pack.flush()


def png_header_bomb(width=100_000, height=100_000):
    """A 74-byte PNG whose IHDR claims ``width`` x ``height`` RGB pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I",
                                                                         zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(1000))) + chunk(b"IEND", b""))


def scan_bomb_jpeg(size=1024, scans=SCAN_BOMB_SCANS):
    """A flat grey progressive JPEG of ``size``x``size`` with one AC scan repeated ``scans`` times.

    Each repeat is 12 bytes on the wire (end-of-band runs) but makes the decoder visit every
    block again: 1024x1024 and 5000 scans is ~64 KB that Pillow decodes (as ``ok``) in ~0.5 s;
    the cost grows with the pixel count (8000x8000: ~20 s).
    """
    from PIL import Image
    out = io.BytesIO()
    Image.new("L", (size, size), 128).save(out, "JPEG", progressive=True, quality=90)
    data = out.getvalue()
    start, end = _scans(data)[1]          # the first AC scan (spectral selection 1..5)
    eoi = data.rindex(b"\xff\xd9")
    return data[:eoi] + data[start:end] * scans + data[eoi:]


def _scans(data):
    """(start, end) of each SOS segment with its entropy-coded data, in file order."""
    found, i = [], 2
    while data[i + 1] != 0xD9:
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        end = i + 2 + length
        if data[i + 1] == 0xDA:
            while data[end] != 0xFF or data[end + 1] == 0 or 0xD0 <= data[end + 1] <= 0xD7:
                end += 1
            found.append((i, end))
        i = end
    return found


# ------------------------------------------------------------------ routes
class Route(NamedTuple):
    """One hostile path: what it answers and the status gather must record.

    ``answers`` is a function (called by :func:`serve`), so that listing the routes, e.g. to
    parametrize tests, builds no bodies.  ``status`` is one status, or a tuple of those that
    are all right when the outcome depends on how the bytes arrive.
    """

    path: str
    answers: Callable
    status: "str | tuple"
    what: str

    def accepts(self, status):
        """Whether gather recording ``status`` for this route is right."""
        return status in ((self.status,) if isinstance(self.status, str) else self.status)


def _encoded(body, encoding, **answer):
    return Answer(200, body, {**JPEG, "Content-Encoding": encoding}, **answer)


def _lie(photo, factor):
    """The photo with a Content-Length of ``factor`` times its size, then a close."""
    return Answer(200, photo, {**JPEG, "Content-Length": str(int(len(photo) * factor))},
                  length=False)


def bomb_routes(size=BOMB_BYTES):
    """Item 2: gzip and deflate bombs, with a Content-Length and chunked: all ``too_large``."""
    return [Route(f"/bomb/{name}-{framing}.jpg",
                  lambda pack=pack, chunked=(framing == "chunked"), name=name:
                      (_encoded(pack(size), name, chunked=chunked),),
                  "too_large", f"{size >> 20} MiB of zeros as {name}, {framing}")
            for name, pack in [("gzip", gzip_bomb), ("deflate", deflate_bomb)]
            for framing in ("length", "chunked")]


def flat_bmp(size=(200, 150)):
    """A one-colour BMP: 90 kB that gzip makes a few hundred bytes."""
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(out, "BMP")
    return out.getvalue()


def honest_encoded_routes(photo):
    """Compressed bodies that are no attack: decoded and kept (``ok``)."""
    return [Route("/encoded/gzip.bmp",
                  lambda: (Answer(200, gzipped(flat_bmp()), {"Content-Type": "image/bmp",
                                                             "Content-Encoding": "gzip"}),),
                  "ok", "a BMP sent gzip-encoded (90 kB decoded, 300 B sent)"),
            Route("/encoded/gzip.jpg", lambda: (_encoded(gzipped(photo), "gzip"),), "ok",
                  "a JPEG sent gzip-encoded"),
            Route("/encoded/gzip-chunked.jpg",
                  lambda: (_encoded(gzipped(photo), "gzip", chunked=True),), "ok",
                  "a JPEG sent gzip-encoded, chunked"),
            Route("/encoded/deflate.jpg", lambda: (_encoded(zlib.compress(photo), "deflate"),),
                  "ok", "a JPEG sent as zlib deflate (RFC 1950)"),
            Route("/encoded/deflate-raw.jpg",
                  lambda: (_encoded(raw_deflated(photo), "deflate"),), "ok",
                  "a JPEG sent as raw deflate (no zlib header)")]


def broken_encoded_routes(photo):
    """Compressed bodies that cannot be decoded: settled for good, not retried."""
    cut = gzipped(photo)[:len(gzipped(photo)) // 2]
    return [Route("/encoded/unasked-br.jpg", lambda: (_encoded(photo, "br"),), "unsupported",
                  "Content-Encoding br, which gather does not ask for"),
            Route("/encoded/gzip-cut.jpg", lambda: (_encoded(cut, "gzip"),), "truncated",
                  "the first half of a gzip stream"),
            Route("/encoded/gzip-junk.jpg", lambda: (_encoded(photo, "gzip"),), "corrupt",
                  "a plain JPEG that says it is gzip")]


def redirect_routes():
    """Item 18: redirects to schemes that are never followed: ``bad_url``, not transient."""
    return [Route(f"/redirect/{scheme}.jpg",
                  lambda target=target: (Answer(302, headers={"Location": target}),),
                  "bad_url", f"302 to {target}")
            for scheme, target in [("file", "file:///etc/passwd"),
                                   ("ftp", "ftp://127.0.0.1/x.jpg"),
                                   ("data", "data:image/gif;base64,R0lGODlhAQABAAAAACw=")]]


def protocol_routes(photo):
    """A trickle, Content-Length lies, header floods: timeouts and cut transfers."""
    many = {f"X-Pad-{i}": "a" for i in range(20_000)}
    return [
        Route("/trickle.jpg", lambda: (Answer(200, photo, JPEG, trickle=TRICKLE_SECONDS),),
              "timeout", f"one byte every {TRICKLE_SECONDS} s ({len(photo)} bytes)"),
        # aiohttp refuses the extra bytes if they come with the last byte it wanted, else it
        # never sees them and the image is cut: either is right.
        Route("/length/short.jpg", lambda: (_lie(photo, 0.5),), ("connection_error", "truncated"),
              "Content-Length half the body (the rest is data after the answer)"),
        Route("/length/long.jpg", lambda: (_lie(photo, 2),), "connection_error",
              "Content-Length twice the body, then a close (a cut-off transfer)"),
        Route("/headers/huge.jpg", lambda: (Answer(200, photo, {**JPEG, "X-Pad": "a" * 200_000}),),
              "connection_error", "one 200 kB header line"),
        Route("/headers/many.jpg", lambda: (Answer(200, photo, {**JPEG, **many}),),
              "connection_error", "20,000 header lines")]


def image_bomb_routes():
    """Small bodies that would cost much to decode: refused before the decode."""
    return [
        Route("/png/header-bomb.png", lambda: (Answer(200, png_header_bomb(), PNG),), "too_large",
              "a 74-byte PNG whose IHDR claims 100000x100000 (Pillow's bomb error)"),
        Route("/png/pixels.png", lambda: (Answer(200, png_header_bomb(12_000, 12_000), PNG),),
              "too_large", "a 74-byte PNG claiming 12000x12000 (the pixel-count limit)"),
        Route("/jpeg/scan-bomb.jpg", lambda: (Answer(200, scan_bomb_jpeg(), JPEG),),
              "too_complex", f"a progressive JPEG with {SCAN_BOMB_SCANS} repeated scans")]


def hostile_routes(photo=None):
    """Every hostile route, with the status gather must record under :data:`LIMITS`."""
    photo = photo or image_bytes((64, 48), seed=7)
    return (bomb_routes() + honest_encoded_routes(photo) + broken_encoded_routes(photo)
            + redirect_routes() + protocol_routes(photo) + image_bomb_routes())


def route(path):
    """The route of :func:`hostile_routes` at ``path``."""
    return next(r for r in hostile_routes() if r.path == path)


def serve(site, routes):
    """Register ``routes`` on ``site``; returns {url: its Route's status}."""
    return {site.add(r.path, *r.answers()): r.status for r in routes}
