"""The command line: the only place that knows about flags.

Each subcommand is a pair ``_add_<name>(subparsers)`` / ``_run_<name>(args)``:
parse, make one library call, print its report.  Library errors (the
``*Error`` types of each stage) are printed as one line, exit status 2.
"""

import argparse
import logging
import sys

from mlimages import __version__


class _Formatter(argparse.ArgumentDefaultsHelpFormatter,
                 argparse.RawDescriptionHelpFormatter):
    """Show defaults and keep the description's line breaks."""


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


# -------------------------------------------------------------------- gather
def _shard(text):
    k, sep, n = text.partition("/")
    if not sep or not k.isdigit() or not n.isdigit() or not 1 <= int(k) <= int(n):
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N (e.g. 1/4), got {text}")
    return int(k), int(n)


def _size(text):
    w, _, h = text.lower().partition("x")
    try:
        size = (int(w), int(h or w))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or WxH (e.g. 256 or 320x240), got {text}")
    if min(size) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text}")
    return size


def _bytes(text):
    units = {"k": 10**3, "m": 10**6, "g": 10**9}
    t = text.strip().lower().removesuffix("b")
    try:
        return int(float(t[:-1]) * units[t[-1]]) if t and t[-1] in units else int(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a byte count such as 20000000 or 20MB, "
                                         f"got {text}")


def _add_gather(sub):
    from mlimages.gather.sources import DEFAULT_API, FORMATS
    p = sub.add_parser(
        "gather", formatter_class=_Formatter,
        help="download image URL lists in parallel, resumably, keeping only valid images",
        description="Downloads the URLs of an ImageNet list (id<TAB>url), a plain list (one\n"
                    "URL a line) or a CSV (url,label) into OUT/<label>/, keeping only bodies\n"
                    "that decode completely and are no known placeholder. Every URL gets a\n"
                    "line in OUT/manifest.jsonl; re-running the command resumes.\n\n"
                    "  mlimages gather --urls fall11_urls.txt --wnid n02121808 \\\n"
                    "      --words words.txt --out data/images --limit 500")
    src = p.add_argument_group("source")
    src.add_argument("--urls", metavar="FILE", help="URL list: ImageNet, plain or CSV")
    src.add_argument("--format", choices=FORMATS, default="auto",
                     help="list format (auto: CSV by suffix, ImageNet if lines have a TAB)")
    src.add_argument("--wnid", action="append", default=[], metavar="WNID",
                     help="synset to gather (repeat or comma-separate for several)")
    src.add_argument("--words", metavar="FILE", help="words.txt: names the synset folders")
    src.add_argument("--is-a", metavar="FILE", help="wordnet.is_a.txt for --subset")
    src.add_argument("--subset", action="store_true", help="also gather every hyponym")
    src.add_argument("--flat", action="store_true",
                     help="hyponym folders side by side, not nested under the parent's")
    src.add_argument("--label", metavar="NAME",
                     help="folder of a plain list (and of CSV rows without a label)")
    src.add_argument("--api", nargs="?", const=DEFAULT_API, metavar="BASE",
                     help="use the ImageNet text API at BASE (a mirror) instead of --urls; "
                          f"without BASE: {DEFAULT_API}")
    src.add_argument("--shard", type=_shard, metavar="K/N",
                     help="take only part K of N of the URLs (a stable hash of each URL)")
    src.add_argument("--limit", type=int, metavar="N",
                     help="stop each label (synset) after N images kept")
    p.add_argument("--out", required=True, help="output folder (images, manifest, summary)")
    net = p.add_argument_group("download")
    net.add_argument("--parallel", type=int, default=32, help="requests in flight")
    net.add_argument("--per-host", type=int, default=16, help="requests in flight per host")
    net.add_argument("--timeout", type=float, default=30.0,
                     help="total seconds for one request (connect, redirects, body)")
    net.add_argument("--retries", type=int, default=2,
                     help="retries of a transient failure (timeout, reset, 5xx, 429)")
    net.add_argument("--backoff", type=float, default=1.0,
                     help="seconds before the first retry, doubled for each next one")
    net.add_argument("--max-bytes", type=_bytes, default="20MB", help="largest body kept")
    net.add_argument("--proxy", metavar="URL",
                     help="http://user:password@host:port (default: HTTP(S)_PROXY from the "
                          "environment)")
    net.add_argument("--retry-failed", action="store_true",
                     help="fetch again URLs whose last status was transient")
    keep = p.add_argument_group("what is kept")
    keep.add_argument("--min-size", type=int, default=0,
                      help="drop images whose short side has fewer pixels")
    keep.add_argument("--placeholder", action="append", default=[], metavar="FILE",
                      help="an extra placeholder image (or rule list) to reject; repeatable")
    keep.add_argument("--dedupe", action="store_true", help="drop byte-identical images")
    keep.add_argument("--resize", type=_size, metavar="N|WxH",
                      help="store images resized to this size (JPEG) instead of originals")
    keep.add_argument("--resize-mode", choices=("downscale", "crop", "squash"),
                      default="downscale", help="how --resize fits the image")
    keep.add_argument("--quality", type=int, default=90, help="JPEG quality with --resize")
    p.add_argument("--decode-workers", type=int,
                   help="decoding processes; without it: one a core, less one for the event loop")
    p.add_argument("--log", metavar="FILE", help="log file; without it: OUT/gather.log")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_gather(args):
    import os
    from mlimages.gather import GatherOptions, SourceOptions, gather, summary_table
    wnids = tuple(w.strip() for arg in args.wnid for w in arg.split(",") if w.strip())
    source = SourceOptions(
        urls=args.urls, format=args.format, wnid=wnids, words=args.words, is_a=args.is_a,
        subset=args.subset, flat=args.flat, label=args.label, api=args.api, shard=args.shard)
    opts = GatherOptions(
        parallel=args.parallel, per_host=args.per_host, timeout=args.timeout,
        retries=args.retries, backoff=args.backoff, max_bytes=args.max_bytes,
        min_size=args.min_size, placeholder=tuple(args.placeholder), dedupe=args.dedupe,
        resize=args.resize, resize_mode=args.resize_mode, quality=args.quality,
        proxy=args.proxy, limit=args.limit, retry_failed=args.retry_failed,
        decode_workers=args.decode_workers)
    os.makedirs(args.out, exist_ok=True)
    _log_to_file(args.log or os.path.join(args.out, "gather.log"), args.quiet)
    result = gather(source, args.out, opts, progress=not args.quiet)
    print(summary_table(result))
    print(f"wrote {result.manifest} and {result.summary_path}")
    return 0


def _log_to_file(path, quiet):
    """Every failure goes to the log file; the console shows warnings (info with -v)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    for console in root.handlers:
        console.setLevel(logging.WARNING if quiet else max(root.level, logging.INFO))
    logger = logging.getLogger("mlimages.gather")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)


# --------------------------------------------------------------------- label
def _add_label(sub):
    from mlimages.label import IMAGE_EXTENSIONS
    p = sub.add_parser(
        "label", formatter_class=_Formatter,
        help="build 'path label' list files and label_def.txt from a class-per-folder tree",
        description="Each immediate subfolder of ROOT is a class; class indices follow the\n"
                    "sorted folder names (torchvision ImageFolder / Keras order).\n"
                    "Writes OUT/train.txt (+ val.txt, test.txt), OUT/label_def.txt and,\n"
                    "when anything was rejected, OUT/rejects.txt.")
    p.add_argument("root", help="image folder: one subfolder per class")
    p.add_argument("--out", required=True, help="folder for the list files")
    p.add_argument("--val", type=_fraction, default=0.0,
                   help="fraction of each class for val.txt (stratified)")
    p.add_argument("--test", type=_fraction, default=0.0,
                   help="fraction of each class for test.txt (stratified)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and shuffle")
    p.add_argument("--shuffle", action="store_true",
                   help="shuffle the lines of each list (default: sorted by class, path)")
    p.add_argument("--verify", action="store_true",
                   help="decode every image in parallel; unreadable ones go to rejects.txt")
    p.add_argument("--extensions", default=",".join(e[1:] for e in IMAGE_EXTENSIONS),
                   help="comma-separated image file extensions")
    p.add_argument("--follow-links", action="store_true",
                   help="follow symlinked folders (each real folder is walked once)")
    p.add_argument("--nested", choices=("flatten", "split"), default="flatten",
                   help="ROOT/a/b/x.jpg: class 'a' (flatten) or class 'a/b' (split)")
    p.add_argument("--loose-class", metavar="NAME",
                   help="images lying directly in ROOT form a class of this name")
    p.add_argument("--keep-empty", action="store_true",
                   help="give an index to class folders without any usable image")
    p.add_argument("--label", type=int, metavar="N",
                   help="give every image under ROOT this one label (label_def.txt untouched)")
    p.add_argument("--append", action="store_true",
                   help="append to existing list files (and extend label_def.txt)")
    p.add_argument("--path-root", metavar="DIR",
                   help="write paths relative to DIR instead of ROOT")
    p.add_argument("--workers", type=int, help="processes for --verify (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_label(args):
    from mlimages.label import LabelOptions, label_tree, spaces_warning, summary_table
    opts = LabelOptions(
        val=args.val, test=args.test, seed=args.seed, shuffle=args.shuffle,
        verify=args.verify, extensions=tuple(e.strip() for e in args.extensions.split(",") if e.strip()),
        follow_links=args.follow_links, nested=args.nested, loose_class=args.loose_class,
        label=args.label, append=args.append, keep_empty=args.keep_empty,
        path_root=args.path_root, workers=args.workers)
    result = label_tree(args.root, args.out, opts, progress=not args.quiet)
    print(summary_table(result))
    warning = spaces_warning(result)
    if warning:
        print(warning, file=sys.stderr)
    print("wrote " + ", ".join(str(p) for p in result.written))
    return 0


# ---------------------------------------------------------------------- demo
def _add_demo(sub):
    p = sub.add_parser("demo", formatter_class=_Formatter,
                       help="run the pipeline on a small generated dataset")
    p.add_argument("--out", default="demo-output", help="folder for everything the demo makes")
    p.add_argument("--quick", action="store_true", help="smallest size, for CI")


def _run_demo(args):
    from mlimages.demo import run_demo
    return run_demo(args.out, quick=args.quick)


COMMANDS = {
    "gather": (_add_gather, _run_gather),
    "label": (_add_label, _run_label),
    "demo": (_add_demo, _run_demo),
}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mlimages", formatter_class=_Formatter,
        description="Image dataset preparation and CNN training: "
                    "gather -> label -> mean -> train.")
    parser.add_argument("--version", action="version", version=f"mlimages {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def _library_errors():
    """The error types that are the user's to fix: printed as one line."""
    from mlimages.gather import GatherError
    from mlimages.image import ImageError
    from mlimages.label import LabelError
    from mlimages.listfile import ListFileError
    return (GatherError, ImageError, LabelError, ListFileError, FileNotFoundError)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command][1](args) or 0
    except _library_errors() as e:
        print(f"mlimages {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mlimages {args.command}: interrupted", file=sys.stderr)
        return 130
