"""``mlimages demo``: the whole pipeline, offline, on a generated task.

1. makes a small image-classification task: one class per visual pattern
   (:mod:`mlimages.demo.synth`: stripes, rings, checks, ...), photo-sized JPEGs
   (:mod:`mlimages.demo.task`);
2. serves it from the fake image host on 127.0.0.1 (:mod:`mlimages.demo.site`) behind
   an ImageNet-style URL list, ``words.txt`` and ``wordnet.is_a.txt``, with the broken
   links real lists have planted in it (dead links, a gone link, a hang, an HTML page, a
   truncated JPEG, a redirect to Flickr's "photo unavailable" placeholder);
3. runs the real commands, each printed as a user would type it, through the
   same entry point as the shell (:func:`mlimages.cli.main`):
   gather -> label -> audit (the planted duplicates and the leaks they make) -> label
   --group-duplicates -> mean -> train -> predict -> evaluate (on the held-out test split);
4. checks gather's summary against the planted links and ends with the
   validation and test accuracy, where everything is, and what to type next.
"""

import json
import shlex
import shutil
import time
from pathlib import Path

from mlimages._fs import blocking_file
from mlimages.demo.site import Site
from mlimages.demo.task import BROKEN, DUPLICATES, FULL, PARENT, QUICK, make_task, publish
from mlimages.errors import MlimagesError


class DemoError(MlimagesError, RuntimeError):
    """A demo step failed; the message names the step."""


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


def _test_accuracy(result):
    report = Path(result) / "eval-test" / "report.json"
    return json.loads(report.read_text())["accuracy"] if report.is_file() else None


def _percent(value):
    return f"{value:.1%}" if value is not None else "n/a"


def _check_out(out):
    """Raise DemoError unless ``out`` is a folder or can be made one (before any work)."""
    if out.exists() and not out.is_dir():
        raise DemoError(f"--out {out} is a file, not a folder; give another --out")
    if blocking_file(out) is not None:
        raise DemoError(f"--out {out}: {blocking_file(out)} is a file, so the folder cannot "
                        "be made; give another --out")


#: What a demo run writes under its --out: removed before the next run, nothing else is.
DEMO_OUTPUTS = ("web", "images", "lists", "audit", "result", "cache", "mean.png", "mean.npy",
                "mean.json")


def clear_previous(out):
    """Remove what an earlier demo run wrote in ``out`` (DEMO_OUTPUTS only); returns the names.

    Each run serves its task on a new port, so an earlier run's manifest and run folder would
    mix with this one's (gather's counts, train's refusal of a folder holding a run).
    """
    removed = []
    for name in DEMO_OUTPUTS:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed


def run_demo(run_command, out="demo-output", quick=False):
    """Run the demo into ``out``; returns the exit status (0).

    ``run_command(argv) -> status`` runs one step as the shell would (the CLI passes its own
    ``main``, so that the demo shows and runs the real commands; no import cycle).
    """
    size = QUICK if quick else FULL
    out = Path(out)
    _check_out(out)
    removed = clear_previous(out)
    if removed:
        print(f"Removed the previous demo's {', '.join(removed)} from {out}/")
    started = time.monotonic()
    web, images, lists, result = out / "web", out / "images", out / "lists", out / "result"
    n = size.classes * size.per_class
    print(f"Generating a {size.classes}-class task: {n} photo-sized JPEGs to serve (among them "
          f"{len(DUPLICATES)} planted duplicates: the same bytes in another class, re-encoded, "
          f"mirrored, resized), {size.classes * size.holdout} held out for predict ...")
    files = make_task(web, size)
    with Site() as site:
        publish(site, web, files)
        print(f"Serving them on {site.url()} behind {web / 'urls.txt'} "
              f"({n} good links, {sum(c for *_, c in BROKEN)} broken ones planted)")
        _step(run_command, ["gather", "--urls", web / "urls.txt", "--wnid", PARENT[0], "--subset",
               "--is-a", web / "wordnet.is_a.txt", "--words", web / "words.txt", "--flat",
               "--timeout", 3, "--retries", 0, "--quiet", "--out", images])
    print("\nThe broken links were skipped, each with its reason in manifest.jsonl:")
    print("\n".join(check_gather(images)))
    _audit_and_fix(run_command, out, images, lists)
    _step(run_command, ["mean", lists / "train.txt", "--root", images, "--size", 72, "--out",
           out / "mean.png", "--quiet"])
    _step(run_command, ["train", lists / "train.txt", "--val", lists / "val.txt", "--root", images,
           "--mean", out / "mean.npy", "--arch", "small", "--epoch", size.epochs,
           "--batchsize", size.batchsize, "--lr", size.lr, "--lr-decay", size.lr_decay,
           "--cache", out / "cache", "--seed", 0, "--out", result])
    _step(run_command, ["predict", result, *sorted((web / "holdout").glob("*.jpg")), "--top", 2])
    _step(run_command, ["evaluate", result, lists / "test.txt"])
    _finish(out, result, time.monotonic() - started, size)
    return 0


def _audit_and_fix(run_command, out, images, lists):
    """label, audit the split (the planted duplicates, the leaks they make), label again with
    the duplicate groups kept in one split each."""
    label = ["label", images, "--out", lists, "--val", 0.2, "--test", 0.2, "--seed", 1]
    _step(run_command, label + ["--verify", "--quiet"])
    _step(run_command, ["audit", *(lists / f"{s}.txt" for s in ("train", "val", "test")),
           "--root", images, "--manifest", images / "manifest.jsonl", "--out", out / "audit",
           "--quiet"])
    print("\nThe leaks above are the planted duplicates (see audit/report.html); label again, "
          "each duplicate group kept in one split:")
    _step(run_command, label + ["--group-duplicates", "--quiet"])


def _finish(out, result, seconds, size):
    print(f"\nDone in {seconds:.0f} s. Validation accuracy: {_percent(_val_accuracy(result))}, "
          f"test accuracy: {_percent(_test_accuracy(result))} (chance: {1 / size.classes:.0%}).")
    print(f"""
Where things are:
  {out / 'images'}/          the gathered images, manifest.jsonl, summary.json
  {out / 'lists'}/           train.txt, val.txt, test.txt, label_def.txt
  {out / 'mean.png'}         the mean image (mean.npy for training)
  {out / 'audit'}/           report.html: the planted duplicates, the leaks across splits and
                        classes they made in the first split, flagged images; duplicates.csv
  {result}/          model.npz, curves.png (loss and accuracy by epoch), log, log.csv, snapshots
  {result / 'eval-test'}/  the test split's report: confusion.png (true class by row,
                        predicted by column), mistakes.png (the misclassified images), report.json

Next:
  mlimages label {out / 'images'} ... --drop-duplicates    keep one image of each group
  mlimages inspect --arch alex --insize 227      the size arithmetic of AlexNet
  mlimages train ... --resume {result}           continue a stopped run
  mlimages train ... --init-model {result}/model.npz --freeze conv1,conv2   fine-tune""")
