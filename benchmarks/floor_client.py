"""The floor of bench_gather: the barest HTTP client, requesting every URL in list order.

``python benchmarks/floor_client.py URLS OUT PARALLEL TIMEOUT``: PARALLEL asyncio tasks, each
with one kept-alive connection, send a plain GET for the next URL, read the answer (by its
Content-Length, or to the close) and drop it; a request that has no complete answer within
TIMEOUT seconds is abandoned with its connection. Nothing is followed, decoded or written
(OUT is only created), no retry: what no tool at this concurrency can beat on the bench's site,
whose hanging URLs end the run at the earliest TIMEOUT after the last of them is requested.
Plain ``http://HOST:PORT/path`` URLs only (the bench's site).
"""

import asyncio
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit


async def _answer(reader):
    """Read one answer; True if the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    length, close = None, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value == b"close":
            close = True
    if length is None:
        await reader.read()  # to the close
        return False
    await reader.readexactly(length)
    return not close


async def _worker(urls, timeout, stats):
    reader = writer = None
    for url in urls:  # one shared iterator: the list's order across every task
        parts = urlsplit(url)
        stats["last_sent"] = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                if writer is None:
                    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                writer.write(f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                             "\r\n".encode())
                kept = await _answer(reader)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            kept = False
        if not kept and writer is not None:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def main(urls_file, out, parallel, timeout):
    Path(out).mkdir(parents=True, exist_ok=True)
    urls = iter(Path(urls_file).read_text().split())
    stats, start = {"last_sent": 0.0}, time.perf_counter()
    await asyncio.gather(*(_worker(urls, timeout, stats) for _ in range(parallel)))
    print(f"last request sent at {stats['last_sent'] - start:.2f} s, "
          f"done at {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
