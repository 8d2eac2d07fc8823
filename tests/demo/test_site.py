"""The fake image host (mlimages/demo/site.py): its named routes, answer sequences, hangs, proxy."""

import http.client
import threading
import time

import pytest

from mlimages.demo.site import (PLACEHOLDER_PATH, Answer, Site, gone, hang, html_page, image_bytes,
                                not_found, photo, placeholder_png, to_placeholder, truncated)


def get(site, path, headers=None):
    """(status, headers, body) of one GET, straight to the site (no proxy from the environment)."""
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        conn.close()


def test_named_routes(tmp_path):
    jpeg = image_bytes(seed=1)
    (tmp_path / "a.jpg").write_bytes(jpeg)
    with Site() as site:
        for path, answer in [("/file.jpg", photo(tmp_path / "a.jpg")), ("/bytes.jpg", photo(jpeg)),
                             ("/dead.jpg", not_found()), ("/gone.jpg", gone()),
                             ("/page.jpg", html_page()), ("/cut.jpg", truncated(jpeg)),
                             ("/moved.jpg", to_placeholder())]:
            assert site.add(path, answer) == f"http://127.0.0.1:{site.port}{path}"
        assert get(site, "/file.jpg")[2] == jpeg == get(site, "/bytes.jpg")[2]
        statuses = [get(site, p)[0] for p in ("/dead.jpg", "/gone.jpg", "/never.jpg")]
        assert statuses == [404, 410, 404]
        assert get(site, "/page.jpg")[1]["Content-Type"] == "text/html"
        assert get(site, "/cut.jpg")[2] == jpeg[: len(jpeg) // 2]
        status, headers, _ = get(site, "/moved.jpg")
        assert status == 302 and headers["Location"] == PLACEHOLDER_PATH
        assert get(site, PLACEHOLDER_PATH)[2] == placeholder_png()


def test_answers_are_taken_in_turn_the_last_repeating_and_counted():
    with Site() as site:
        site.add("/flaky.jpg", Answer(500), photo(b"x"))
        assert [get(site, "/flaky.jpg")[:3:2] for _ in range(3)] == [(500, b""), (200, b"x"),
                                                                     (200, b"x")]
        assert site.hits["/flaky.jpg"] == 3


def test_a_hang_ends_when_the_site_closes():
    with Site() as site:
        site.add("/hang.jpg", hang())
        errors = []
        client = threading.Thread(target=lambda: errors.append(_fails(site, "/hang.jpg")))
        client.start()
        time.sleep(0.2)
        started = time.monotonic()
    client.join(10)
    assert time.monotonic() - started < 5 and errors == [True]


def _fails(site, path):
    try:
        get(site, path)
    except (http.client.HTTPException, ConnectionError):
        return True
    return False


def test_latency_and_proxy_credentials():
    with Site(latency=0.2, proxy_auth=("me", "secret")) as site:
        site.add("http://127.0.0.1:9/x.jpg", photo(b"x"))
        started = time.monotonic()
        assert get(site, "http://127.0.0.1:9/x.jpg")[0] == 407
        assert time.monotonic() - started >= 0.2
        auth = {"Proxy-Authorization": site.proxy_auth}
        assert get(site, "http://127.0.0.1:9/x.jpg", auth)[2] == b"x"
        assert site.seen_auth == [None, site.proxy_auth]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_image_bytes_is_the_same_for_the_same_seed(fmt):
    assert image_bytes(fmt=fmt, seed=3) == image_bytes(fmt=fmt, seed=3) != image_bytes(fmt=fmt)


def test_answers_leave_at_once_on_a_kept_alive_connection():
    # The headers and the body are two writes: with Nagle's algorithm the body's last segment
    # waited for the client's delayed ACK of the headers (~40 ms on Linux), so each answer
    # took ~50 ms where the site promises its latency (benchmarks/RESULTS.md, 2026-12-03).
    with Site() as site:
        assert site._httpd.RequestHandlerClass.disable_nagle_algorithm is True
