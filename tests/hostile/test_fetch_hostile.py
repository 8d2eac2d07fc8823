"""gather (mlimages/gather/fetch.py) and the ImageNet API (imagenet.py) against a hostile host.

Issue 12, items 2 (compressed bodies and --max-bytes), 11 (--api deadlines and caps) and
18 (redirects to other schemes), and one gather run per route of ``hostile_server.py``.
"""

import http.client
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from hostile_server import (LIMITS, bomb_routes, flat_bmp, hostile_routes, redirect_routes, route,
                            serve)
from mlimages.demo.site import Answer, Site
from mlimages.gather import GatherError, GatherOptions, SourceOptions, gather, is_transient
from mlimages.gather.imagenet import ApiCatalog

PROMPT = LIMITS["timeout"] + 3.0   # seconds a whole run may take (a worker starts, one request)


@pytest.fixture(scope="module")
def hostile():
    """One hostile host, serving every route, for the module's per-route runs."""
    with Site() as site:
        serve(site, hostile_routes())
        yield site


def run_gather(urls, out, **opts):
    """gather ``urls`` into ``out`` under LIMITS; returns ({url: record}, seconds it took)."""
    listing = Path(out).parent / f"{Path(out).name}.txt"
    listing.write_text("".join(u + "\n" for u in urls), "utf-8")
    started = time.monotonic()
    gather(SourceOptions(urls=str(listing), label="x"), out,
           GatherOptions(decode_workers=1, **{**LIMITS, **opts}))
    took = time.monotonic() - started
    lines = (Path(out) / "manifest.jsonl").read_text("utf-8").splitlines()
    return {r["url"]: r for r in map(json.loads, lines)}, took


@pytest.mark.parametrize("hostile_route", [pytest.param(r, id=r.path)
                                           for r in hostile_routes()])
def test_each_hostile_route_is_recorded_and_gather_ends_promptly(hostile, hostile_route,
                                                                 tmp_path):
    url = hostile.url(hostile_route.path)
    records, took = run_gather([url], tmp_path / "out")
    assert hostile_route.accepts(records[url]["status"]), (hostile_route.what, records[url])
    assert took < PROMPT, f"{hostile_route.what}: gather took {took:.1f} s"


def test_site_sends_chunked_and_trickling_bodies():
    """The two Answer capabilities the hostile routes need, read with the standard library."""
    with Site() as site:
        site.add("/chunked", Answer(200, bytes(200_000), chunked=True))
        site.add("/trickle", Answer(200, b"abcde", trickle=0.1))
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=5)
        conn.request("GET", "/chunked")
        answer = conn.getresponse()
        assert answer.getheader("Transfer-Encoding") == "chunked"
        assert answer.read() == bytes(200_000)     # and the connection stays usable
        started = time.monotonic()
        conn.request("GET", "/trickle")
        assert conn.getresponse().read() == b"abcde"
        assert 0.4 < time.monotonic() - started < 2
        conn.close()


# ------------------------------------------------------------------ item 2
def test_compression_bombs_are_too_large_in_little_memory_item2(tmp_path):
    """32 MiB bombs (gzip, deflate; Content-Length, chunked) with --max-bytes 1 MB: each is
    refused as too_large, and gather never holds more than a few MB of Python memory."""
    with Site() as site:
        expect = serve(site, bomb_routes())
        tracemalloc.start()
        try:
            records, _ = run_gather(list(expect), tmp_path / "out")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert {u: r["status"] for u, r in records.items()} == expect
    assert all("--max-bytes 1000000" in r["reason"] for r in records.values())
    assert peak < 12_000_000, f"peak {peak / 1e6:.0f} MB of Python memory"


def test_max_bytes_counts_the_decoded_bytes_of_an_honest_body_item2(tmp_path):
    """A gzip-encoded BMP, 90 kB decoded but a few hundred bytes sent, is too_large under
    --max-bytes 10000 and kept under 1 MB, its decoded size recorded."""
    with Site() as site:
        url, = serve(site, [route("/encoded/gzip.bmp")])
        small, _ = run_gather([url], tmp_path / "small", max_bytes=10_000)
        kept, _ = run_gather([url], tmp_path / "kept")
    assert small[url]["status"] == "too_large", small[url]
    assert kept[url]["status"] == "ok" and kept[url]["bytes"] == len(flat_bmp())
    assert (tmp_path / "kept" / kept[url]["path"]).read_bytes() == flat_bmp()


# ------------------------------------------------------------------ item 18
def test_redirects_to_other_schemes_are_bad_url_and_not_retried_item18(tmp_path):
    with Site() as site:
        expect = serve(site, redirect_routes())
        records, _ = run_gather(list(expect), tmp_path / "out")
        assert {u: r["status"] for u, r in records.items()} == expect
        assert not is_transient("bad_url")
        hits = dict(site.hits)
        run_gather(list(expect), tmp_path / "out", retry_failed=True)
        assert dict(site.hits) == hits  # settled for good: --retry-failed asks nothing again
    for url, record in records.items():
        assert "only http and https" in record["reason"], record


# ------------------------------------------------------------------ item 11
API = "/api/text/"
GETURLS = API + "imagenet.synset.geturls?wnid=n02121808"
LISTING = b"".join(b"http://127.0.0.1:9/%d.jpg\r\n" % i for i in range(4))


def _api_error(site, answer, **limits):
    """(the GatherError's text, seconds) of asking ``site``'s API for one synset's URLs."""
    site.add(GETURLS, answer)
    started = time.monotonic()
    with pytest.raises(GatherError) as caught:
        ApiCatalog(site.url(API), **limits).urls("n02121808")
    return str(caught.value), time.monotonic() - started


def test_api_trickle_is_one_line_error_within_the_timeout_item11(site):
    """One byte every 0.2 s resets an idle timeout for ever; --timeout is a total deadline."""
    text, took = _api_error(site, Answer(200, LISTING, trickle=0.2), timeout=1.0)
    assert took < 2.5, f"the API request took {took:.1f} s with timeout=1"
    assert "within 1 s" in text and "\n" not in text and site.url(GETURLS) in text


def test_api_answer_over_the_default_cap_is_refused_item11(site):
    """An API answer over --max-bytes' default (20 MB) is refused, not read into memory."""
    body = LISTING * (21_000_000 // len(LISTING))
    text, _ = _api_error(site, Answer(200, body, chunked=True), timeout=10.0)
    assert "--max-bytes" in text and "\n" not in text


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_api_answer_over_max_bytes_is_refused_item11(site, chunked):
    text, _ = _api_error(site, Answer(200, LISTING * 50, chunked=chunked), max_bytes=1000)
    assert "--max-bytes 1000" in text and "\n" not in text


def test_api_still_reads_an_honest_answer_item11(site):
    site.add(GETURLS, Answer(200, LISTING, chunked=True))
    urls = ApiCatalog(site.url(API), timeout=5.0, max_bytes=1000).urls("n02121808")
    assert urls == [f"http://127.0.0.1:9/{i}.jpg" for i in range(4)]


def test_cli_api_trickle_is_one_line_error_within_the_timeout_item11(site, tmp_path):
    site.add(API + "wordnet.synset.getwords?wnid=n02121808", Answer(200, b"cat\n"))
    site.add(GETURLS, Answer(200, LISTING[:10], trickle=0.2))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "mlimages", "gather", "--api", site.url(API),
                           "--wnid", "n02121808", "--timeout", "1", "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    assert done.returncode == 2 and "within 1 s" in done.stderr, done.stderr
    assert took < 4.0, f"mlimages gather --api took {took:.1f} s with --timeout 1"
