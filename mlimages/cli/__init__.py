"""The command line: the only place that knows about flags.

Each subcommand is a :class:`Command` in ``COMMANDS``: its one-line help,
``_add_<name>(parser)`` (its arguments) and ``_run_<name>(args)`` (parse, make one library
call, print its report).  Library errors (the ``*Error`` types of each stage) are printed as
one line, exit status 2.
"""

import argparse
import logging
import sys
from typing import Callable, NamedTuple

from mlimages import __version__
from mlimages.defaults import ARCH_NAMES, DEFAULT_ARCH, DEFAULT_RESIZE, DEFAULT_SIZE, RESIZE_MODES
from mlimages.errors import MlimagesError


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


def _add_gather(p):
    from mlimages.gather.sources import DEFAULT_API, FORMATS
    p.description = ("Downloads the URLs of an ImageNet list (id<TAB>url), a plain list (one\n"
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
    p.add_argument("--merge", nargs="+", metavar="SHARD_DIR",
                   help="instead of downloading, merge the --out folders of --shard K/N runs "
                        "into --out; with --urls (same source flags, no --shard) also check "
                        "that no URL of the list is missing")
    p.add_argument("--move", action="store_true",
                   help="with --merge: move the images out of the shard folders, not copy")
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
    keep.add_argument("--resize-mode", choices=RESIZE_MODES,
                      default=DEFAULT_RESIZE, help="how --resize fits the image")
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
    if args.merge:
        return _run_gather_merge(args, source if (args.urls or args.api) else None)
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


def _run_gather_merge(args, source):
    from mlimages.gather.merge import merge_shards, merge_table
    result = merge_shards(args.merge, args.out, source, move=args.move)
    print(merge_table(result))
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
def _add_label(p):
    from mlimages.label import IMAGE_EXTENSIONS
    p.description = ("Each immediate subfolder of ROOT is a class; class indices follow the\n"
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


# ---------------------------------------------------------------------- mean
def _add_mean(p):
    p.description = ("Brings every listed image to SIZE x SIZE the way training does and\n"
                    "averages them on all cores. --out mean.png writes mean.png, mean.npy\n"
                    "(float32 (3, H, W) RGB, Chainer's --mean format) and mean.json; beside\n"
                    "the list it writes LIST_used_in_mean.txt (the images summed) and,\n"
                    "when an image was unreadable, LIST_rejects_in_mean.txt.")
    p.add_argument("list", help="'path label' list file, e.g. lists/train.txt")
    p.add_argument("--root", default=".", help="folder the listed paths are relative to")
    p.add_argument("--out", default="mean.png",
                   help="output name; .png, .npy and .json are written with its stem")
    p.add_argument("--size", type=int, default=DEFAULT_SIZE,
                   help="images become SIZE x SIZE (must match training)")
    p.add_argument("--resize", choices=RESIZE_MODES, default=DEFAULT_RESIZE,
                   help="how images are brought to SIZE (must match training)")
    p.add_argument("--grayscale", action="store_true", help="a one-channel (1, H, W) mean")
    p.add_argument("--workers", type=int, help="processes (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_mean(args):
    from mlimages.mean import MeanOptions, mean_image, report
    opts = MeanOptions(size=args.size, resize=args.resize, grayscale=args.grayscale,
                       workers=args.workers)
    result = mean_image(args.list, args.root, args.out, opts, progress=not args.quiet)
    print(report(result))
    print("wrote " + ", ".join(str(p) for p in result.written))
    return 0


# --------------------------------------------------------------------- train
class _Given(argparse.Action):
    """Store the value and remember that it was given: with --resume, the options not given
    on the command line come from the run's args.json instead of the defaults."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = getattr(namespace, "given", set()) | {self.dest}


def _add_train(p):
    p.description = ("Trains ARCH on TRAIN (a 'path label' list) with the mean image subtracted,\n"
                    "random crops and flips; evaluates on --val every epoch. Writes the log\n"
                    "(JSON and CSV), loss/accuracy plots, snapshots every epoch and every\n"
                    "--snapshot-interval iterations (last --keep kept), and model.npz,\n"
                    "label_def.txt, mean.npy and args.json for `mlimages predict`.\n"
                    "Ctrl-C stops after the current iteration with a snapshot.\n"
                    "`--resume OUT` continues a run; options not given again come from\n"
                    "OUT/args.json (give e.g. a larger --epoch to train longer).")
    g = {"action": _Given}
    p.add_argument("train", nargs="?", help="training list file (path label)")
    p.add_argument("--val", **g, help="validation list file")
    p.add_argument("--root", default=".", **g, help="folder the list paths are relative to")
    p.add_argument("--mean", default="mean.npy", **g, help="mean image from `mlimages mean`")
    p.add_argument("--label-def", **g, metavar="FILE",
                   help="class names; none given: label_def.txt beside TRAIN")
    p.add_argument("--out", default="result", **g, help="output folder")
    p.add_argument("--arch", default=DEFAULT_ARCH, choices=ARCH_NAMES, **g, help="network")
    p.add_argument("--epoch", type=int, default=10, **g, help="epochs to train")
    p.add_argument("--batchsize", type=int, default=32, **g, help="training mini-batch size")
    p.add_argument("--val-batchsize", type=int, default=32, **g, help="validation batch size")
    p.add_argument("--crop", type=int, **g, help="input side (default: the network's own, "
                   "alex 227, small 64); checked first, see `mlimages inspect`")
    p.add_argument("--lr", type=float, default=0.01, **g, help="MomentumSGD learning rate")
    p.add_argument("--momentum", type=float, default=0.9, **g, help="momentum")
    p.add_argument("--weight-decay", type=float, default=0.0005, **g, help="L2 weight decay")
    p.add_argument("--lr-decay", type=float, default=0.97, **g,
                   help="learning-rate factor applied every --lr-decay-every epochs")
    p.add_argument("--lr-decay-every", type=int, default=1, **g, help="epochs per lr step")
    p.add_argument("--log-interval", type=int, default=100, **g,
                   help="iterations between log lines (there is also one per epoch)")
    p.add_argument("--snapshot-interval", type=int, default=1000, **g,
                   help="iterations between snapshots (there is also one per epoch)")
    p.add_argument("--keep", type=int, default=3, **g, help="snapshots of each kind kept")
    p.add_argument("--gpu", type=int, default=-1, **g, help="CUDA device number; -1: CPU")
    p.add_argument("--seed", type=int, **g, help="seed for a reproducible run")
    p.add_argument("--cache", metavar="DIR", **g,
                   help="keep every image, resized, in a memory-mapped file under DIR: the "
                        "first epoch decodes, later epochs (and runs) only crop and flip; "
                        "needs 196 KiB of disk per 256x256 image")
    p.add_argument("--resume", metavar="SNAPSHOT_OR_OUT",
                   help="continue from a snapshot, or from the latest one in an output folder")
    p.add_argument("--init-model", **g, help="start from these weights: the model.npz of an "
                   "earlier run or a Caffe .caffemodel (layers whose shapes match)")
    p.add_argument("--freeze", type=_names, default=(), **g,
                   help="comma-separated layers that get no updates, e.g. conv1,...,conv5")
    p.add_argument("--freeze-until", metavar="LAYER", **g,
                   help="freeze every layer from the input up to and including LAYER")
    p.add_argument("--pretrained-lr-scale", type=float, default=1.0, **g,
                   help="learning-rate factor for loaded layers that are not frozen")
    p.add_argument("--distributed", action="store_true",
                   help="one rank of `mpiexec -n N mlimages train ... --distributed`: data-"
                        "parallel over MPI (ChainerMN); --batchsize is per rank, the effective "
                        "batch is N times it; needs pip install 'mlimages[mpi]'")
    p.add_argument("--quiet", action="store_true", help="no table and no progress bar")


def _names(text):
    return tuple(n.strip() for n in text.split(",") if n.strip())


_FINETUNE_ARGS = ("init_model", "freeze", "freeze_until", "pretrained_lr_scale")
_NOT_OPTIONS = ("command", "verbose", "resume", "quiet", "given", "distributed")


def _train_options(args):
    """TrainOptions from the command line, over OUT/args.json when resuming."""
    import dataclasses
    from pathlib import Path
    from mlimages.training.finetune import FinetuneOptions
    from mlimages.training.run import TrainError, TrainOptions, load_options
    values = {k: v for k, v in vars(args).items() if k not in _NOT_OPTIONS}
    if args.resume:
        given = getattr(args, "given", set()) | ({"train"} if args.train else set())
        resume = Path(args.resume)
        base = load_options(resume if resume.is_dir() else resume.parent)
        tune = {k: values[k] for k in _FINETUNE_ARGS if k in given}
        rest = {k: values[k] for k in given if k not in _FINETUNE_ARGS}
        rest.setdefault("out", str(resume if resume.is_dir() else resume.parent))
        return dataclasses.replace(base, finetune=dataclasses.replace(base.finetune, **tune),
                                   **rest)
    if not args.train:
        raise TrainError("give the training list (mlimages train lists/train.txt ...), or "
                         "--resume OUT to continue a run")
    tune = FinetuneOptions(**{k: values.pop(k) for k in _FINETUNE_ARGS})
    return TrainOptions(finetune=tune, **values)


def _run_train(args):
    import signal
    import threading
    from mlimages.training.run import summary, train
    opts = _train_options(args)
    stop = threading.Event()

    def request_stop(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after this iteration and writing a snapshot "
              "(press Ctrl-C again to stop at once)", file=sys.stderr)

    old = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = train(opts, resume=args.resume, stop=stop, progress=not args.quiet,
                       distributed=args.distributed)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    if result.rank == 0:  # under mpiexec, one report
        print(summary(result))
    return 130 if result.interrupted else 0


# ------------------------------------------------------------------- predict
def _add_predict(p):
    p.description = ("Loads RESULT_DIR (model.npz, label_def.txt, mean.npy,\n"
                    "args.json) and classifies each IMAGE, preprocessed as in\n"
                    "evaluation. Unreadable images are reported, not fatal.")
    p.add_argument("result_dir", help="the --out folder of `mlimages train`")
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--top", type=int, default=5, help="classes shown per image")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _run_predict(args):
    import json
    from mlimages.predict import format_predictions, predict, to_json
    predictions = predict(args.result_dir, args.images, top=args.top)
    if args.json:
        print(json.dumps(to_json(predictions), indent=2))
    else:
        print(format_predictions(predictions))
    return 1 if any(p.error for p in predictions) else 0


# ------------------------------------------------------------------- inspect
def _add_inspect(p):
    p.description = ("For every convolution and pooling layer: kernel F,\n"
                    "stride S, pad P, input N and output (N + 2P - F)/S + 1,\n"
                    "flagging divisions that are not exact; the flattened\n"
                    "size reaching the first fully connected layer; and, for a\n"
                    "size that does not fit, the nearest sizes that do.")
    p.add_argument("--arch", choices=ARCH_NAMES, default=DEFAULT_ARCH, help="network")
    p.add_argument("--insize", type=int, help="input side in pixels (default: the network's)")
    p.add_argument("--classes", type=int, default=1000, help="outputs of the last layer")


def _run_inspect(args):
    from mlimages.models.sizes import format_report, inspect_size
    report = inspect_size(args.arch, args.insize, n_classes=args.classes)
    print(format_report(report))
    return 0 if report.fits else 1


# ---------------------------------------------------------------------- info
def _add_info(p):
    p.description = ("What to paste into a bug report, and the first thing to run\n"
                    "on a new machine: versions and known-slow set-ups.")


def _run_info(args):
    from mlimages.info import collect, format_info
    print(format_info(collect()))
    return 0


# ---------------------------------------------------------------------- demo
def _add_demo(p):
    p.add_argument("--out", default="demo-output", help="folder for everything the demo makes")
    p.add_argument("--quick", action="store_true", help="smallest size, for CI")


def _run_demo(args):
    from mlimages.demo import run_demo
    return run_demo(main, args.out, quick=args.quick)


class Command(NamedTuple):
    """A subcommand: its one-line help, how to add its arguments, how to run it."""

    help: str
    add: Callable
    run: Callable


COMMANDS = {
    "gather": Command("download image URL lists in parallel, resumably, keeping only valid images",
                      _add_gather, _run_gather),
    "label": Command("build 'path label' list files and label_def.txt from a class-per-folder tree",
                     _add_label, _run_label),
    "mean": Command("compute the mean image of a list (.npy for training, .png, .json)",
                    _add_mean, _run_mean),
    "train": Command("train a CNN (Chainer Trainer) on list files; snapshots, logs, plots, resume",
                     _add_train, _run_train),
    "predict": Command("top-k classes of images, with a `mlimages train` output folder",
                       _add_predict, _run_predict),
    "inspect": Command("layer-by-layer sizes of a network for an input size",
                       _add_inspect, _run_inspect),
    "info": Command("versions, BLAS kernel, GPU/CUDA/cuDNN, Pillow JPEG, cores; warnings",
                    _add_info, _run_info),
    "demo": Command("run the pipeline on a small generated dataset",
                    _add_demo, _run_demo),
}


def build_parser(command=None):
    """The argument parser; with ``command``, only that subcommand's arguments are built.

    Building a subcommand imports its stage for defaults and choices (gather's pulls in no
    NumPy, label's and mean's do): building only the one that runs keeps every command's
    start-up to what it needs. The others are still listed in ``--help``.
    """
    parser = argparse.ArgumentParser(
        prog="mlimages", formatter_class=_Formatter,
        description="Image dataset preparation and CNN training: "
                    "gather -> label -> mean -> train.")
    parser.add_argument("--version", action="version", version=f"mlimages {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, cmd in COMMANDS.items():
        p = sub.add_parser(name, help=cmd.help, formatter_class=_Formatter)
        if command is None or name == command:
            cmd.add(p)
    return parser


def _command_in(argv):
    """The subcommand named in ``argv`` (the first word that is not an option), or None."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command].run(args) or 0
    except KeyboardInterrupt:
        print(f"mlimages {args.command}: interrupted", file=sys.stderr)
        return 130
    except (MlimagesError, FileNotFoundError) as e:
        print(f"mlimages {args.command}: error: {e}", file=sys.stderr)
        return 2
