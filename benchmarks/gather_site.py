"""The benchmark's web site: photo-sized JPEGs and a realistic mix of broken links.

Run as ``python benchmarks/gather_site.py DATA_DIR`` (started by bench_gather.py): it listens on
127.0.0.1 only, on a free port that it prints as its first line, adds LATENCY seconds to every
request and serves the routes of DATA_DIR/site.json (written by bench_gather.py).
"""

import asyncio
import json
import sys
from pathlib import Path

from aiohttp import web

LATENCY = 0.020
PLACEHOLDER_PATH = "/pw/images/en-us/photo_unavailable.png"


def make_app(data):
    routes = json.loads((data / "site.json").read_text())
    blobs = {name: (data / name).read_bytes() for name in set(routes["blobs"].values())}
    hits = {}

    async def handle(request):
        await asyncio.sleep(LATENCY)
        path = request.path
        kind, blob = routes["kinds"].get(path, "missing"), routes["blobs"].get(path)
        hits[path] = hits.get(path, 0) + 1
        body = blobs.get(blob, b"")
        if kind in ("good", "png", "big", "truncated", "empty", "placeholder_png"):
            ctype = "image/png" if kind in ("png", "placeholder_png") else "image/jpeg"
            return web.Response(body=body, content_type=ctype)
        if kind == "html":
            return web.Response(text="<!DOCTYPE html><html><body>Photo not found</body></html>",
                                content_type="text/html")
        if kind == "dead":
            raise web.HTTPFound(PLACEHOLDER_PATH)
        if kind == "flaky" and hits[path] == 1:
            return web.Response(status=500)
        if kind == "busy" and hits[path] == 1:
            return web.Response(status=429, headers={"Retry-After": "1"})
        if kind in ("flaky", "busy"):
            return web.Response(body=body, content_type="image/jpeg")
        if kind == "down":
            return web.Response(status=503)
        if kind == "gone":
            return web.Response(status=410)
        if kind == "hang":
            await asyncio.sleep(routes["hang_s"])
            return web.Response(body=body, content_type="image/jpeg")
        if kind == "reset":
            request.transport.abort()
            raise asyncio.CancelledError
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


async def main(data):
    runner = web.AppRunner(make_app(Path(data)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
