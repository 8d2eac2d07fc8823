"""``mlimages demo``: the whole pipeline, offline, on a generated task.

1. makes a small image-classification task: one class per visual pattern
   (:mod:`mlimages.demo.synth`: stripes, rings, checks, ...), photo-sized JPEGs;
2. serves it from its own HTTP server on 127.0.0.1 behind an ImageNet-style URL
   list, ``words.txt`` and ``wordnet.is_a.txt``, with the broken links real
   lists have planted in it (dead links, a gone link, a hang, an HTML page, a
   truncated JPEG, a redirect to Flickr's "photo unavailable" placeholder);
3. runs the real commands, each printed as a user would type it, through the
   same entry point as the shell (:func:`mlimages.cli.main`):
   gather -> label -> mean -> train -> predict;
4. checks gather's summary against the planted links and ends with the
   validation accuracy, where everything is, and what to type next.
"""

import json
import shlex
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mlimages.demo import synth
from mlimages.errors import MlimagesError

PARENT = ("n99990000", "pattern")
# Fake WordNet ids (the real ones start far lower), one per generated pattern.
SYNSETS = [(f"n9999{i + 1:04d}", name) for i, name in enumerate(synth.PATTERNS)]
HANG_SECONDS = 30
PLACEHOLDER_PATH = "/pw/images/en-us/photo_unavailable.png"


class DemoError(MlimagesError, RuntimeError):
    """A demo step failed; the message names the step."""


@dataclass(frozen=True)
class DemoSize:
    """How big the generated task is (``quick`` for CI)."""
    classes: int
    per_class: int
    holdout: int
    image_size: tuple
    epochs: int
    batchsize: int


FULL = DemoSize(classes=4, per_class=100, holdout=2, image_size=(320, 240), epochs=12, batchsize=16)
QUICK = DemoSize(classes=3, per_class=24, holdout=1, image_size=(160, 120), epochs=4, batchsize=8)

# Planted broken links: (route, manifest status gather must give, how many).
BROKEN = [("dead", "http_404", 3), ("gone", "http_410", 1), ("hang", "timeout", 1),
          ("html", "not_image", 1), ("cut", "truncated", 1), ("moved", "placeholder", 1)]


# ------------------------------------------------------------------ the data
def make_task(folder, size, seed=1):
    """Write the served images and the held-out ones; returns ``{wnid: [file names]}``."""
    served, holdout = Path(folder) / "served", Path(folder) / "holdout"
    files = {}
    for c, (wnid, name) in enumerate(SYNSETS[:size.classes]):
        (served / wnid).mkdir(parents=True, exist_ok=True)
        holdout.mkdir(parents=True, exist_ok=True)
        for i in range(size.per_class + size.holdout):
            w, h = size.image_size
            dims = (w, h) if i % 3 else (h, w)          # some portrait photos too
            image = synth.make_image(name, dims, seed=seed * 100_003 + c * 1_009 + i)
            if i < size.per_class:
                image.save(served / wnid / f"{i:04d}.jpg", quality=88)
                files.setdefault(wnid, []).append(f"{i:04d}.jpg")
            else:
                image.save(holdout / f"{name}_{i:04d}.jpg", quality=88)
    return files


def write_lists(folder, base_url, files):
    """Write the ImageNet-style ``urls.txt``, ``words.txt`` and ``wordnet.is_a.txt``.

    The broken links of :data:`BROKEN` are spread over the synsets.
    """
    folder = Path(folder)
    lines, wnids = [], list(files)
    for wnid, names in files.items():
        lines += [f"{wnid}_{i}\t{base_url}/photos/{wnid}/{n}" for i, n in enumerate(names)]
    k = 0
    for route, _, count in BROKEN:
        for _ in range(count):
            wnid = wnids[k % len(wnids)]
            lines.append(f"{wnid}_{9000 + k}\t{base_url}/{route}/{wnid}_{k}.jpg")
            k += 1
    (folder / "urls.txt").write_text("\n".join(lines) + "\n")
    words = [PARENT] + [s for s in SYNSETS if s[0] in files]
    (folder / "words.txt").write_text("".join(f"{w}\t{n}\n" for w, n in words))
    (folder / "wordnet.is_a.txt").write_text("".join(f"{PARENT[0]} {w}\n" for w in files))


# ---------------------------------------------------------------- the server
def _placeholder_png():
    import io
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (500, 374), (230, 230, 230))
    ImageDraw.Draw(image).text((180, 180), "photo unavailable", fill=(120, 120, 120))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _handler(served, stop):
    placeholder = _placeholder_png()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):        # keep the demo's output readable
            pass

        def _send(self, code, body=b"", kind="image/jpeg", headers=()):
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers:
                self.send_header(key, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass                         # the client gave up (the hang, by design)

        def do_GET(self):
            parts = self.path.strip("/").split("/")
            route = parts[0]
            if route == "photos" and len(parts) == 3:
                path = served / parts[1] / parts[2]
                if path.is_file():
                    return self._send(200, path.read_bytes())
            elif route == "gone":
                return self._send(410, b"gone", "text/plain")
            elif route == "hang":
                stop.wait(HANG_SECONDS)          # past gather's --timeout
                return None
            elif route == "html":
                return self._send(200, b"<html><body>Not found</body></html>", "text/html")
            elif route == "cut":
                good = next(served.rglob("*.jpg")).read_bytes()
                return self._send(200, good[: len(good) // 2])
            elif route == "moved":
                return self._send(302, headers=[("Location", PLACEHOLDER_PATH)])
            elif self.path == PLACEHOLDER_PATH:
                return self._send(200, placeholder, "image/png")
            return self._send(404, b"not found", "text/plain")

    return Handler


class DemoServer:
    """The demo's HTTP server on 127.0.0.1 (a free port), in a thread; a context manager."""

    def __init__(self, served):
        self._stop = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Path(served), self._stop))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


# ----------------------------------------------------------------- the steps
def _step(run_command, argv):
    """Print ``argv`` as a shell command and run it with ``run_command`` (the CLI's main)."""
    print(f"\n$ mlimages {shlex.join(str(a) for a in argv)}", flush=True)
    status = run_command([str(a) for a in argv])
    if status:
        raise DemoError(f"`mlimages {argv[0]}` failed with status {status}")


def check_gather(images):
    """Compare gather's summary with the planted links; returns printable lines."""
    summary = json.loads((Path(images) / "summary.json").read_text())
    counts = summary["manifest"]["by_status"]
    lines, ok = [], True
    for _, status, planted in BROKEN:
        got = counts.get(status, 0)
        ok &= got == planted
        lines.append(f"  planted {planted} x {status:<12} gather reported {got}"
                     + ("" if got == planted else "   <-- mismatch"))
    if not ok:
        raise DemoError("gather's summary does not match the planted broken links:\n"
                        + "\n".join(lines))
    return lines


def _val_accuracy(result):
    log = json.loads((Path(result) / "log").read_text())
    values = [e["validation/main/accuracy"] for e in log if "validation/main/accuracy" in e]
    return values[-1] if values else None


def run_demo(run_command, out="demo-output", quick=False):
    """Run the demo into ``out``; returns the exit status (0).

    ``run_command(argv) -> status`` runs one step as the shell would (the CLI passes its own
    ``main``, so that the demo shows and runs the real commands; no import cycle).
    """
    size = QUICK if quick else FULL
    out = Path(out)
    started = time.monotonic()
    web, images, lists, result = out / "web", out / "images", out / "lists", out / "result"
    n = size.classes * size.per_class
    print(f"Generating a {size.classes}-class task: {n} photo-sized JPEGs to serve, "
          f"{size.classes * size.holdout} held out for predict ...")
    files = make_task(web, size)
    with DemoServer(web / "served") as server:
        write_lists(web, server.url, files)
        print(f"Serving them on {server.url} behind {web / 'urls.txt'} "
              f"({n} good links, {sum(c for *_, c in BROKEN)} broken ones planted)")
        _step(run_command, ["gather", "--urls", web / "urls.txt", "--wnid", PARENT[0], "--subset",
               "--is-a", web / "wordnet.is_a.txt", "--words", web / "words.txt", "--flat",
               "--timeout", 3, "--retries", 0, "--quiet", "--out", images])
    print("\nThe broken links were skipped, each with its reason in manifest.jsonl:")
    print("\n".join(check_gather(images)))
    _step(run_command, ["label", images, "--out", lists, "--val", 0.25, "--seed", 1, "--verify", "--quiet"])
    _step(run_command, ["mean", lists / "train.txt", "--root", images, "--size", 72, "--out",
           out / "mean.png", "--quiet"])
    _step(run_command, ["train", lists / "train.txt", "--val", lists / "val.txt", "--root", images,
           "--mean", out / "mean.npy", "--arch", "small", "--epoch", size.epochs,
           "--batchsize", size.batchsize, "--log-interval", 10, "--seed", 0,
           "--out", result, "--quiet"])
    _step(run_command, ["predict", result, *sorted((web / "holdout").glob("*.jpg")), "--top", 2])
    _finish(out, result, time.monotonic() - started, size)
    return 0


def _finish(out, result, seconds, size):
    accuracy = _val_accuracy(result)
    chance = 1 / size.classes
    print(f"\nDone in {seconds:.0f} s. Validation accuracy: "
          + (f"{accuracy:.1%}" if accuracy is not None else "n/a")
          + f" (chance: {chance:.0%}).")
    print(f"""
Where things are:
  {out / 'images'}/          the gathered images, manifest.jsonl, summary.json
  {out / 'lists'}/           train.txt, val.txt, label_def.txt
  {out / 'mean.png'}         the mean image (mean.npy for training)
  {result}/          model.npz, log, log.csv, loss.png, accuracy.png, snapshots

Next:
  mlimages inspect --arch alex --insize 227      the size arithmetic of AlexNet
  mlimages train ... --resume {result}           continue a stopped run
  mlimages train ... --init-model {result}/model.npz --freeze conv1,conv2   fine-tune""")
