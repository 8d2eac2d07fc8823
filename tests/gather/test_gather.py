"""gather end to end against the fake image host on 127.0.0.1 (mlimages.demo.site)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from mlimages.cli import main as cli_main
from mlimages.demo.site import (PLACEHOLDER_PATH, Answer, image_bytes, placeholder_image,
                                png_bytes, to_placeholder)
from mlimages.gather import GatherError, GatherOptions, SourceOptions, gather, summary_table
from mlimages.gather.outdir import OutDir
from mlimages.image import verify_image

FAST = dict(timeout=1.0, retries=1, backoff=0.05)


def manifest_lines(out):
    """Every record of OUT/manifest.jsonl, in file order."""
    lines = (Path(out) / "manifest.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def read_manifest(out):
    """{url: record} (the last line for a URL wins; for lists without repeated URLs)."""
    return {r["url"]: r for r in manifest_lines(out)}


def kept_files(out):
    """Relative POSIX paths of the files gather keeps (hidden ones and its own files aside)."""
    out = Path(out)
    own = {"manifest.jsonl", "summary.json", "gather.log"}
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                  if p.is_file() and p.name not in own
                  and not any(part.startswith(".") for part in p.relative_to(out).parts))


def assert_manifest_matches_folder(out):
    """Contract: every ok line names a complete image on disk, every kept file has an ok line."""
    records = {(r["label"], r["url"]): r for r in manifest_lines(out)}
    ok_paths = sorted(r["path"] for r in records.values() if r["status"] == "ok")
    assert ok_paths == kept_files(out)
    for path in ok_paths:
        verify_image(Path(out) / path, draft=False)
    for r in records.values():
        assert set(r) == {"url", "id", "label", "status", "reason", "bytes", "path", "sha1",
                          "elapsed"}
        assert (r["path"] is None) == (r["status"] != "ok")
    return records


def write_list(path, urls):
    Path(path).write_text("".join(u + "\n" for u in urls), "utf-8")
    return str(path)


def workers_of(pid):
    """Pids of the decode processes started by ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if entry.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == pid \
                and b"mlimages.gather.workers" in cmdline:
            found.append(int(entry))
    return found


@pytest.fixture
def broken_site(site, tmp_path):
    """Every kind of answer the issue lists: (site, {url: expected status}, --placeholder)."""
    good = image_bytes((200, 150), seed=1)
    user_placeholder = placeholder_image((320, 240), "Image removed by its owner")
    user_file = tmp_path / "removed.png"
    user_file.write_bytes(png_bytes(user_placeholder))
    look_alike = user_placeholder.resize((240, 180))
    look_bytes = __import__("io").BytesIO()
    look_alike.save(look_bytes, "JPEG", quality=80)
    expect = {}
    for i in range(5):
        expect[site.add(f"/good/{i}.jpg", Answer(200, image_bytes(seed=10 + i)))] = "ok"
    expect.update({
        site.add("/png.jpg", Answer(200, image_bytes(fmt="PNG", seed=3))): "ok",
        site.add("/missing.jpg", Answer(404)): "http_404",
        site.add("/gone.jpg", Answer(410)): "http_410",
        site.add("/flaky.jpg", Answer(500), Answer(200, image_bytes(seed=4))): "ok",
        site.add("/busy.jpg", Answer(429, headers={"Retry-After": "1"}),
                 Answer(200, image_bytes(seed=5))): "ok",
        site.add("/down.jpg", Answer(503)): "http_5xx",
        site.add("/hang.jpg", Answer(200, good, delay=2.5)): "timeout",
        site.add("/reset.jpg", Answer(reset=True)): "connection_error",
        site.add("/page.jpg", Answer(200, b"<!DOCTYPE html><html><body>Not here</body></html>",
                                     {"Content-Type": "text/html"})): "not_image",
        site.add("/trunc.jpg", Answer(200, good[: len(good) // 2])): "truncated",
        site.add("/empty.jpg", Answer(200, b"")): "empty",
        site.add("/dead.jpg", to_placeholder()): "placeholder",
        site.add("/removed.jpg", Answer(200, look_bytes.getvalue())): "placeholder",
        site.add("/removed-exact.png", Answer(200, user_file.read_bytes())): "placeholder",
        site.add("/big.jpg", Answer(200, image_bytes((400, 400), seed=6, quality=98))): "too_large",
        site.add("/bigstream.jpg", Answer(200, image_bytes((400, 400), seed=7, quality=98),
                                          length=False)): "too_large",
        site.add("/tiny.jpg", Answer(200, image_bytes((8, 8), seed=8))): "too_small",
        site.add("/loop.jpg", Answer(302, headers={"Location": "/loop.jpg"})):
            "too_many_redirects",
        "ftp://127.0.0.1/x.jpg": "bad_url",
        "not a url": "bad_url",
    })
    return site, expect, str(user_file)


def test_keeps_exactly_the_good_images_and_gives_each_url_its_status(broken_site, tmp_path):
    site, expect, user_placeholder = broken_site
    urls = write_list(tmp_path / "urls.txt", expect)
    opts = GatherOptions(max_bytes=100_000, min_size=16, placeholder=(user_placeholder,),
                         parallel=8, **FAST)
    result = gather(SourceOptions(urls=urls, label="things"), tmp_path / "out", opts)
    assert_manifest_matches_folder(tmp_path / "out")
    records = read_manifest(tmp_path / "out")
    assert {u: r["status"] for u, r in records.items()} == expect
    assert records[site.url("/png.jpg")]["path"].endswith(".png")
    assert all(r["path"].startswith("things/") for r in records.values() if r["path"])
    assert site.hits["/flaky.jpg"] == 2 and site.hits["/busy.jpg"] == 2
    assert site.hits["/down.jpg"] == 2 and site.hits["/missing.jpg"] == 1  # no retry: permanent
    assert site.hits["/page.jpg"] == 1
    assert "photo_unavailable.png" in records[site.url("/dead.jpg")]["reason"]
    assert "dhash" in records[site.url("/removed.jpg")]["reason"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary == result.summary and summary["completed"]
    assert summary["this_run"]["ok"] == 8 == summary["manifest"]["by_status"]["ok"]
    table = summary_table(result)
    assert "http_404" in table and "images/s" in table


def test_rerun_skips_settled_urls_and_retry_failed_retries_transient_ones(site, tmp_path):
    urls = write_list(tmp_path / "urls.txt", [
        site.add("/a.jpg", Answer(200, image_bytes(seed=1))),
        site.add("/missing.jpg", Answer(404)),
        site.add("/down.jpg", Answer(503), Answer(503), Answer(200, image_bytes(seed=2))),
    ])
    source, out = SourceOptions(urls=urls), tmp_path / "out"
    opts = GatherOptions(**FAST)
    gather(source, out, opts)
    assert read_manifest(out)[site.url("/down.jpg")]["status"] == "http_5xx"
    hits = sum(site.hits.values())
    again = gather(source, out, opts)
    assert sum(site.hits.values()) == hits and again.summary["skipped"]["settled"] == 3
    retried = gather(source, out, GatherOptions(retry_failed=True, **FAST))
    assert retried.summary["this_run"]["attempted"] == 1
    assert read_manifest(out)[site.url("/down.jpg")]["status"] == "ok"
    assert site.hits["/a.jpg"] == 1 and site.hits["/missing.jpg"] == 1
    assert_manifest_matches_folder(out)


def test_limit_counts_successes_per_label_not_attempts(site, tmp_path):
    rows = ["url,label"]
    for i in range(6):
        rows.append(site.add(f"/dead{i}.jpg", Answer(404)) + ",cats")
    for i in range(10):
        rows.append(site.add(f"/cat{i}.jpg", Answer(200, image_bytes(seed=i))) + ",cats")
        rows.append(site.add(f"/dog{i}.jpg", Answer(200, image_bytes(seed=50 + i))) + ",dogs")
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    gather(SourceOptions(urls=str(tmp_path / "list.csv")), out,
           GatherOptions(limit=3, parallel=8, **FAST))
    records = read_manifest(out).values()
    oks = [r["label"] for r in records if r["status"] == "ok"]
    assert sorted(oks) == ["cats"] * 3 + ["dogs"] * 3
    # The 404s come first in the list and were tried, yet 3 cats were still kept.
    assert sum(r["status"] == "http_404" for r in records) >= 3
    more = gather(SourceOptions(urls=str(tmp_path / "list.csv")), out,
                  GatherOptions(limit=5, parallel=8, **FAST))
    assert more.summary["manifest"]["by_status"]["ok"] == 10
    assert_manifest_matches_folder(out)


def test_dedupe_and_resize(site, tmp_path):
    same = image_bytes((120, 90), seed=1)
    urls = write_list(tmp_path / "urls.txt", [
        site.add("/one.jpg", Answer(200, same)), site.add("/two.jpg", Answer(200, same)),
        site.add("/png.png", Answer(200, image_bytes((90, 120), fmt="PNG", seed=2)))])
    out = tmp_path / "out"
    gather(SourceOptions(urls=urls), out,
           GatherOptions(dedupe=True, resize=(32, 24), resize_mode="squash", parallel=1, **FAST))
    records = assert_manifest_matches_folder(out)
    assert sorted(r["status"] for r in records.values()) == ["duplicate", "ok", "ok"]
    for r in records.values():
        if r["path"]:
            assert r["path"].endswith(".jpg")
            with Image.open(out / r["path"]) as im:
                assert im.size == (32, 24) and im.format == "JPEG"


def test_hostile_names_never_leave_out(site, tmp_path):
    site.default = [Answer(200, image_bytes(seed=9))]
    ids = ["../../etc/passwd.jpg", "/etc/shadow", "..", ".hidden", "a\x01b\x1b[31m", "x" * 400,
           "CON", "%2e%2e%2fescape", "same", "same"]
    urls = [site.url(f"/img/{i}.jpg") for i in range(len(ids))]
    lines = [f"{i}\t{u}" for i, u in zip(ids, urls)]
    urls2 = ["/..%2f..%2f..%2fetc%2fpasswd.jpg", "/%2e%2e/%2e%2e/x.jpg", "/a/..%5c..%5cwin.jpg",
             "/dir/", "/q.jpg?name=../../z.jpg", "/" + "%41" * 300 + ".jpg"]
    lines += [f"n00000001_{k}\t{site.url(p)}" for k, p in enumerate(urls2)]
    lines += [f"n00000002_{k}\t{site.url(p)}" for k, p in enumerate(["/n.jpg", "/N.jpg"])]
    (tmp_path / "evil.txt").write_text("\n".join(lines) + "\n")
    out = tmp_path / "deep" / "out"
    rows = "url,label\n" + "".join(f"{site.url(f'/lbl{i}.jpg')},{label}\n" for i, label in
                                   enumerate(["../../../tmp/owned", "/abs", "..", "a/../../b"]))
    (tmp_path / "evil.csv").write_text(rows)
    gather(SourceOptions(urls=str(tmp_path / "evil.txt")), out, GatherOptions(**FAST))
    gather(SourceOptions(urls=str(tmp_path / "evil.csv")), out, GatherOptions(**FAST))
    records = assert_manifest_matches_folder(out)
    assert all(r["status"] == "ok" for r in records.values())
    everything = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(out in p.parents or p.parent == tmp_path for p in everything)
    paths = [r["path"] for r in records.values()]
    assert len(set(p.lower() for p in paths)) == len(paths)  # no collisions, any case
    for p in paths:
        assert not p.startswith("/") and ".." not in p.split("/")
        assert all(32 <= ord(c) != 127 for c in p)
        assert all(len(part.encode()) <= 130 and not part.startswith(".")
                   for part in p.split("/"))


def test_proxy_with_credentials(proxy, tmp_path):
    target = "http://127.0.0.1:9/via-proxy.jpg"  # nothing listens on port 9: only the proxy
    proxy.add(target, Answer(200, image_bytes(seed=3)))
    moved = proxy.add("http://127.0.0.1:9/moved.jpg",  # each hop goes through the proxy too
                      Answer(302, headers={"Location": "/elsewhere.jpg"}))
    proxy.add("http://127.0.0.1:9/elsewhere.jpg", Answer(200, image_bytes(seed=5)))
    urls = write_list(tmp_path / "urls.txt", [target, moved])
    out = tmp_path / "out"
    opts = GatherOptions(proxy=f"http://me:secret@127.0.0.1:{proxy.port}", **FAST)
    gather(SourceOptions(urls=urls), out, opts)
    records = read_manifest(out)
    assert records[target]["status"] == records[moved]["status"] == "ok"
    assert len(proxy.seen_auth) == 3 and all(a == proxy.proxy_auth for a in proxy.seen_auth)


def test_proxy_from_environment(proxy, tmp_path, monkeypatch):
    target = "http://127.0.0.1:9/env-proxy.jpg"
    proxy.add(target, Answer(200, image_bytes(seed=4)))
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://me:secret@127.0.0.1:{proxy.port}")
    out = tmp_path / "out"
    gather(SourceOptions(urls=write_list(tmp_path / "u.txt", [target])), out,
           GatherOptions(**FAST))
    assert read_manifest(out)[target]["status"] == "ok"


def test_a_locked_folder_is_refused(tmp_path):
    with OutDir(tmp_path / "out"):
        with pytest.raises(GatherError, match="another gather run"):
            with OutDir(tmp_path / "out"):
                pass
    with OutDir(tmp_path / "out"):  # released at exit
        pass


def test_a_manifest_line_cut_by_a_crash_is_dropped(site, tmp_path):
    url = site.add("/a.jpg", Answer(200, image_bytes(seed=1)))
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.jsonl").write_text('{"url": "http://x/1.jpg", "id": null, "lab')
    (out / ".gather-tmp").mkdir()
    (out / ".gather-tmp" / "img-partial").write_bytes(b"\xff\xd8 half")
    gather(SourceOptions(urls=write_list(tmp_path / "u.txt", [url])), out, GatherOptions(**FAST))
    assert list(read_manifest(out)) == [url]
    assert not (out / ".gather-tmp").exists()


def test_bad_options_are_refused_with_the_flag_named(tmp_path):
    with pytest.raises(GatherError, match="--limit"):
        GatherOptions(limit=0)
    with pytest.raises(GatherError, match="--proxy"):
        GatherOptions(proxy="socks5://x")
    with pytest.raises(GatherError, match="--urls"):
        gather(SourceOptions(), tmp_path / "out")
    (tmp_path / "bad.txt").write_text("not a rule\n")
    with pytest.raises(GatherError, match="placeholder rule"):
        gather(SourceOptions(urls=write_list(tmp_path / "u.txt", [])), tmp_path / "out",
               GatherOptions(placeholder=(str(tmp_path / "bad.txt"),)))


def test_cli_gather_prints_the_summary_and_logs_failures(site, tmp_path, capsys):
    urls = write_list(tmp_path / "u.txt", [site.add("/a.jpg", Answer(200, image_bytes())),
                                           site.add("/b.jpg", Answer(404))])
    out = tmp_path / "out"
    assert cli_main(["gather", "--urls", urls, "--out", str(out), "--quiet", "--timeout", "2",
                     "--label", "x"]) == 0
    printed = capsys.readouterr().out
    assert "http_404" in printed and "images/s" in printed
    assert "http_404" in (out / "gather.log").read_text()
    assert cli_main(["gather", "--out", str(out)]) == 2
    assert "--urls" in capsys.readouterr().err


def test_cli_rejects_a_bad_shard(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli_main(["gather", "--urls", "x", "--out", str(tmp_path), "--shard", "0/4"])
    assert "1 <= K <= N" in capsys.readouterr().err


# ------------------------------------------------------------ kill and resume
def _gather_cmd(urls, out):
    return [sys.executable, "-m", "mlimages", "gather", "--urls", urls, "--out", str(out),
            "--parallel", "4", "--timeout", "5", "--quiet", "--words", urls + ".words"]


def _comparable(out):
    records = manifest_lines(out)
    for r in records:
        r.pop("elapsed")
    records.sort(key=lambda r: (r["label"], r["url"]))
    files = {p: (Path(out) / p).read_bytes() for p in kept_files(out)}
    return records, files


@pytest.mark.slow
def test_killed_mid_run_then_rerun_equals_an_uninterrupted_run(slow_site, tmp_path):
    site = slow_site
    lines = []
    for i in range(48):
        lines.append(f"n01000001_{i}\t" + site.add(f"/c/{i}.jpg", Answer(200, image_bytes(seed=i))))
    for i, (path, answer) in enumerate([
            ("/x/missing.jpg", Answer(404)), ("/x/page.jpg", Answer(200, b"<html></html>")),
            ("/x/trunc.jpg", Answer(200, image_bytes((200, 150), seed=99)[:3000])),
            ("/x/dead.jpg", to_placeholder()),
            ("/x/png.jpg", Answer(200, image_bytes(fmt="PNG", seed=98)))]):
        lines.append(f"n01000002_{i}\t" + site.add(path, answer))
    lines.append(f"../../n01000002_evil\t{site.url('/c/0.jpg')}")
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(lines) + "\n")
    (tmp_path / "urls.txt.words").write_text("n01000001\tGood Things, stuff\n")

    subprocess.run(_gather_cmd(str(urls), tmp_path / "ref"), check=True, capture_output=True)

    out = tmp_path / "killed"
    proc = subprocess.Popen(_gather_cmd(str(urls), out), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(kept_files(out) if out.exists() else []) < 10 and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    landed = kept_files(out)
    assert 10 <= len(landed) < 50, "the run should have been killed mid-way"
    for path in landed:  # never a partial file under a final name
        verify_image(out / path, draft=False)

    done = subprocess.run(_gather_cmd(str(urls), out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _comparable(out) == _comparable(tmp_path / "ref")
    assert not (out / ".gather-tmp").exists()
    records = assert_manifest_matches_folder(out)
    assert sum(r["status"] == "ok" for r in records.values()) == 50
    assert all(r["path"].startswith("good_things/") for r in records.values()
               if r["path"] and r["id"].startswith("n01000001"))


@pytest.mark.slow
def test_ctrl_c_finishes_what_is_in_flight_and_leaves_a_consistent_folder(slow_site, tmp_path):
    site = slow_site
    urls = [site.add(f"/c/{i}.jpg", Answer(200, image_bytes(seed=i))) for i in range(80)]
    listing = write_list(tmp_path / "urls.txt", urls)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "mlimages", "gather", "--urls", listing, "--out", str(out),
           "--parallel", "4", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(kept_files(out) if out.exists() else []) < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    # Every request the site saw was finished and recorded, none cut off (a list shorter than
    # gather's tasks is all queued at once: the interrupt meets the run past its producer).
    # This site never fails transiently: a URL waiting for a retry would stay unsettled.
    assert {site.url(path) for path in site.hits} <= set(read_manifest(out))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["completed"] is False and summary["this_run"]["ok"] < 80
    assert_manifest_matches_folder(out)
    assert not (out / ".gather-tmp").exists()
    subprocess.run(cmd, check=True, capture_output=True)
    records = assert_manifest_matches_folder(out)
    assert len(records) == 80 and all(r["status"] == "ok" for r in records.values())


def _hits(site):
    return sum(site.hits.values())


def _wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_requests_run_ahead_of_a_stalled_validator_while_bodies_wait_staged(slow_site,
                                                                             tmp_path):
    # The HTTP side must not wait for validation (run.BACKLOG): with its one decoding process
    # stopped, all 40 URLs are still requested at 2 in flight, their bodies staged; the
    # process continued, every one is validated and kept. (With only twice --parallel tasks,
    # requests stopped after about 4 bodies were waiting.)
    site = slow_site
    urls = [site.add(f"/c/{i}.jpg", Answer(200, image_bytes(seed=i))) for i in range(40)]
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlimages", "gather", "--urls", write_list(tmp_path / "u.txt", urls),
         "--out", str(out), "--parallel", "2", "--decode-workers", "1", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: workers_of(proc.pid))
        (worker,) = workers_of(proc.pid)
        os.kill(worker, signal.SIGSTOP)
        try:
            assert _wait_for(lambda: _hits(site) == 40, 15), _hits(site)
            assert len(list((out / ".gather-tmp").iterdir())) >= 40 - 2 - len(kept_files(out))
        finally:
            os.kill(worker, signal.SIGCONT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    records = assert_manifest_matches_folder(out)
    assert len(records) == 40 and all(r["status"] == "ok" for r in records.values())


def test_the_staged_bytes_bound_the_backlog(slow_site, tmp_path, monkeypatch):
    # BACKLOG_BYTES: once the bodies waiting for a validator hold that many bytes, no new
    # request starts (the ones in flight finish); here 3 bodies' worth at 2 in flight.
    from mlimages.gather import run as gather_run

    site = slow_site
    body = image_bytes(seed=1)
    urls = [site.add(f"/c/{i}.jpg", Answer(200, body)) for i in range(40)]
    monkeypatch.setattr(gather_run, "BACKLOG_BYTES", 3 * len(body))
    done = {}
    thread = threading.Thread(target=lambda: done.setdefault("result", gather(
        SourceOptions(urls=write_list(tmp_path / "u.txt", urls)), tmp_path / "out",
        GatherOptions(parallel=2, decode_workers=1), progress=False)))
    thread.start()
    try:
        assert _wait_for(lambda: workers_of(os.getpid()))
        (worker,) = workers_of(os.getpid())
        os.kill(worker, signal.SIGSTOP)
        try:
            time.sleep(0.3)  # what was in the worker's pipe stays there: it is stopped
            before = _hits(site)
            time.sleep(1.5)  # 30 requests' worth of latency at 2 in flight
            assert _hits(site) - before <= 3 + 2, (before, _hits(site))
        finally:
            os.kill(worker, signal.SIGCONT)
    finally:
        thread.join(60)
    assert done["result"].summary["this_run"]["ok"] == 40


def test_ctrl_c_after_the_whole_list_is_taken_finishes_the_started_requests_only(site,
                                                                                  tmp_path):
    # 12 URLs, 8 slots, 16 tasks: the producer is done at once, so the interrupt meets the run
    # while it waits for its tasks. The 8 slow requests started must finish and be recorded;
    # the 4 URLs still waiting for a slot must not be requested (left for the resume).
    slow = [site.add(f"/slow/{i}.jpg", Answer(200, image_bytes(seed=i), delay=1.5))
            for i in range(8)]
    fast = [site.add(f"/fast/{i}.jpg", Answer(200, image_bytes(seed=20 + i))) for i in range(4)]
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlimages", "gather", "--urls",
         write_list(tmp_path / "urls.txt", slow + fast), "--out", str(out), "--parallel", "8",
         "--per-host", "8", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while sum(site.hits[f"/slow/{i}.jpg"] for i in range(8)) < 8 and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    records = assert_manifest_matches_folder(out)
    assert sorted(r["url"] for r in records.values()) == sorted(slow)
    assert all(r["status"] == "ok" for r in records.values())
    assert not any(site.hits[f"/fast/{i}.jpg"] for i in range(4))


@pytest.mark.slow
def test_ctrl_c_does_not_wait_out_a_retry_backoff(slow_site, tmp_path):
    # A 429 asking for 50 s: after a Ctrl-C nothing new may start, so waiting the 50 s out
    # would only delay the end (a service manager's stop timeout is often 90 s).
    site = slow_site
    busy = site.add("/busy.jpg", Answer(429, headers={"Retry-After": "50"}))
    urls = [busy] + [site.add(f"/c/{i}.jpg", Answer(200, image_bytes(seed=i)))
                     for i in range(40)]
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "mlimages", "gather", "--urls",
           write_list(tmp_path / "urls.txt", urls), "--out", str(out), "--parallel", "2",
           "--retries", "1", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while (not site.hits["/busy.jpg"] or len(kept_files(out) if out.exists() else []) < 3) \
            and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)  # a hang guard, far below the 50 s
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert site.hits["/busy.jpg"] == 1 and busy not in read_manifest(out)  # left for the resume
    assert_manifest_matches_folder(out)


def test_a_manifest_that_cannot_grow_stops_the_run_with_the_reason(site, tmp_path):
    # A real write failure (RLIMIT_FSIZE: every file of the process is capped at 4 KB, so the
    # images cannot be staged and, after a few lines, the manifest cannot grow): the run must
    # end with one line naming the manifest, not hang nor print tracebacks.
    import resource

    def capped():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    urls = [site.add(f"/f/{i}.jpg", Answer(200, image_bytes((120, 90), seed=i)))
            for i in range(60)]
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "mlimages", "gather", "--urls",
         write_list(tmp_path / "urls.txt", urls), "--out", str(out), "--parallel", "4",
         "--quiet"], capture_output=True, text=True, timeout=120, preexec_fn=capped)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "manifest.jsonl" in done.stderr and "free some space" in done.stderr, done.stderr
    assert not list((out / ".gather-tmp").glob("*.part")) if (out / ".gather-tmp").exists() \
        else True


def test_a_redirect_to_a_placeholder_settles_without_asking_for_it(site, tmp_path):
    urls = [site.add("/dead.jpg", to_placeholder()),
            site.add("/dead-deep.jpg", Answer(301, headers={"Location": "/dead.jpg"})),
            site.url(PLACEHOLDER_PATH)]  # listed as it is: not asked either
    records = _run(site, tmp_path, urls)
    for url in urls:
        assert records[url]["status"] == "placeholder", records[url]
        assert PLACEHOLDER_PATH in records[url]["reason"]
    assert site.hits[PLACEHOLDER_PATH] == 0  # settled on the Location: the image is known
    assert site.hits["/dead.jpg"] == 2


def test_redirects_are_followed_relative_and_absolute_with_each_status(site, tmp_path):
    real = image_bytes(seed=21)
    site.add("/photos/real.jpg", Answer(200, real))
    urls = {status: site.add(f"/moved/{status}.jpg",
                             Answer(status, headers={"Location": "../photos/real.jpg"}))
            for status in (301, 302, 303, 307, 308)}
    urls["absolute"] = site.add("/moved/abs.jpg", Answer(
        302, headers={"Location": site.url("/moved/301.jpg")}))
    urls["no location"] = site.add("/moved/none.jpg", Answer(302))
    records = _run(site, tmp_path, list(urls.values()))
    for key, url in urls.items():
        if key == "no location":
            assert records[url]["status"] == "http_302", records[url]
            continue
        assert records[url]["status"] == "ok", (key, records[url])
        assert (tmp_path / "out" / records[url]["path"]).read_bytes() == real
    assert site.hits["/photos/real.jpg"] == 6


def _run(site, tmp_path, urls):
    listing = write_list(tmp_path / "urls.txt", urls)
    gather(SourceOptions(urls=listing), tmp_path / "out",
           GatherOptions(timeout=5.0, retries=0, dedupe=False))
    return read_manifest(tmp_path / "out")


def test_a_same_site_redirect_keeps_the_urls_credentials(tmp_path):
    body, seen = image_bytes(seed=22), []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path == "/a.jpg":
                self.send_response(302)
                self.send_header("Location", "/b.jpg")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://me:secret@127.0.0.1:{server.server_address[1]}/a.jpg"
        listing = write_list(tmp_path / "urls.txt", [url])
        gather(SourceOptions(urls=listing), tmp_path / "out", GatherOptions(timeout=5.0))
        server.shutdown()
    assert read_manifest(tmp_path / "out")[url]["status"] == "ok"
    assert [path for path, _ in seen] == ["/a.jpg", "/b.jpg"]
    assert seen[0][1] == seen[1][1] == "Basic bWU6c2VjcmV0"  # me:secret
