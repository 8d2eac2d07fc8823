"""``mlimages gather``: its flags (defaults from SourceOptions and GatherOptions) and its run.

Building the parser imports :mod:`mlimages.gather` but neither NumPy nor Pillow: the process
that runs the event loop does not need them (a test checks it).
"""

import logging

from mlimages.cli._args import _bytes, _shard, _size, add_field, bytes_text, options_from

HELP = "download image URL lists in parallel, resumably, keeping only valid images"

DESCRIPTION = """\
Downloads the URLs of an ImageNet list (id<TAB>url), a plain list (one
URL a line) or a CSV (url,label) into OUT/<label>/, keeping only bodies
that decode completely and are no known placeholder. Every URL gets a
line in OUT/manifest.jsonl; re-running the command resumes.

  mlimages gather --urls fall11_urls.txt --wnid n02121808 \\
      --words words.txt --out data/images --limit 500

On several machines, one MPI job (README, "Past one machine"):

  mpiexec -f hosts -n 4 -ppn 1 mlimages gather ... --out data/images --distributed"""


def add(p):
    """Add gather's arguments to the subparser ``p``."""
    from mlimages.gather import GatherOptions
    p.description = DESCRIPTION
    _add_source(p.add_argument_group("source"))
    _add_output(p)
    _add_download(p.add_argument_group("download"))
    _add_kept(p.add_argument_group("what is kept"))
    add_field(p, "--decode-workers", GatherOptions, type=int,
              help="decoding processes; without it: one a core, less one for the event loop")
    p.add_argument("--log", metavar="FILE", help="log file; without it: OUT/gather.log")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_source(src):
    """Where the URLs come from: the fields of SourceOptions, and --limit."""
    from mlimages.gather import GatherOptions
    from mlimages.gather.sources import DEFAULT_API, FORMATS, SourceOptions
    add_field(src, "--urls", SourceOptions, metavar="FILE",
              help="URL list: ImageNet, plain or CSV")
    add_field(src, "--format", SourceOptions, choices=FORMATS,
              help="list format (auto: CSV by suffix, ImageNet if lines have a TAB)")
    add_field(src, "--wnid", SourceOptions, as_flag=list, action="append", metavar="WNID",
              help="synset to gather (repeat or comma-separate for several)")
    add_field(src, "--words", SourceOptions, metavar="FILE",
              help="words.txt: names the synset folders")
    add_field(src, "--is-a", SourceOptions, metavar="FILE", help="wordnet.is_a.txt for --subset")
    add_field(src, "--subset", SourceOptions, action="store_true",
              help="also gather every hyponym")
    add_field(src, "--flat", SourceOptions, action="store_true",
              help="hyponym folders side by side, not nested under the parent's")
    add_field(src, "--label", SourceOptions, metavar="NAME",
              help="folder of a plain list (and of CSV rows without a label)")
    add_field(src, "--url-column", SourceOptions, metavar="NAME|N",
              help="CSV column of the URLs, by header name or 0-based index "
                   "(None: a header named url, image_url, link, ..., else column 0)")
    add_field(src, "--label-column", SourceOptions, metavar="NAME|N",
              help="CSV column of the labels, by header name or 0-based index "
                   "(None: a header named label, class, category, ..., else column 1)")
    add_field(src, "--api", SourceOptions, nargs="?", const=DEFAULT_API, metavar="BASE",
              help="use the ImageNet text API at BASE (a mirror) instead of --urls; "
                   f"without BASE: {DEFAULT_API}")
    add_field(src, "--shard", SourceOptions, type=_shard, metavar="K/N",
              help="take only part K of N of the URLs (a stable hash of each URL)")
    add_field(src, "--limit", GatherOptions, type=int, metavar="N",
              help="stop each label (synset) after N images kept")


def _add_output(p):
    """Where the images go, or which shard folders --merge joins."""
    p.add_argument("--out", required=True, help="output folder (images, manifest, summary)")
    p.add_argument("--merge", nargs="+", metavar="SHARD_DIR",
                   help="instead of downloading, merge the --out folders of --shard K/N runs "
                        "into --out; with --urls (same source flags, no --shard) also check "
                        "that no URL of the list is missing")
    p.add_argument("--move", action="store_true",
                   help="with --merge: move the images out of the shard folders, not copy")
    p.add_argument("--distributed", action="store_true",
                   help="one rank of `mpiexec -n N mlimages gather ... --distributed`: rank r "
                        "gathers shard r+1/N into OUT/.shards/r/, rank 0 shows the job's "
                        "progress and merges the shards into OUT; run again to resume")
    p.add_argument("--work", metavar="DIR",
                   help="with --distributed, when OUT is not on a file system every node "
                        "sees: each rank gathers into DIR/<rank>/ on its own node, and rank 0 "
                        "copies the shards into OUT over MPI")


def _add_download(net):
    """How the URLs are fetched."""
    from mlimages.gather import GatherOptions as G
    add_field(net, "--parallel", G, type=int, help="requests in flight")
    add_field(net, "--per-host", G, type=int, help="requests in flight per host")
    add_field(net, "--timeout", G, type=float,
              help="total seconds for one request (connect, redirects, body)")
    add_field(net, "--retries", G, type=int,
              help="retries of a transient failure (timeout, reset, 5xx, 429)")
    add_field(net, "--backoff", G, type=float,
              help="seconds before the first retry, doubled for each next one")
    add_field(net, "--max-bytes", G, as_flag=bytes_text, type=_bytes, help="largest body kept")
    add_field(net, "--proxy", G, metavar="URL",
              help="http://user:password@host:port (default: HTTP(S)_PROXY from the "
                   "environment)")
    add_field(net, "--retry-failed", G, action="store_true",
              help="fetch again URLs whose last status was transient")


def _add_kept(keep):
    """Which downloaded images are kept, and in what form."""
    from mlimages.defaults import RESIZE_MODES
    from mlimages.gather import GatherOptions as G
    add_field(keep, "--min-size", G, type=int,
              help="drop images whose short side has fewer pixels")
    add_field(keep, "--placeholder", G, as_flag=list, action="append", metavar="FILE",
              help="an extra placeholder image (or rule list) to reject; repeatable")
    add_field(keep, "--dedupe", G, action="store_true", help="drop byte-identical images")
    add_field(keep, "--resize", G, type=_size, metavar="N|WxH",
              help="store images resized to this size (JPEG) instead of originals")
    add_field(keep, "--resize-mode", G, choices=RESIZE_MODES, help="how --resize fits the image")
    add_field(keep, "--quality", G, type=int, help="JPEG quality with --resize")


def source_options(args):
    """SourceOptions from the parsed arguments (``--wnid`` repeated and comma-separated)."""
    from mlimages.gather.sources import SourceOptions
    wnids = tuple(w.strip() for arg in args.wnid for w in arg.split(",") if w.strip())
    return options_from(args, SourceOptions, wnid=wnids)


def gather_options(args):
    """GatherOptions from the parsed arguments (``--placeholder`` repeated)."""
    from mlimages.gather import GatherOptions
    return options_from(args, GatherOptions, placeholder=tuple(args.placeholder))


def run(args):
    """Download (or, with --merge, merge shard folders) and print the summary."""
    from mlimages.gather import gather, summary_table
    source = source_options(args)
    from mlimages.gather import GatherError
    if args.work and not args.distributed or args.distributed and (args.merge or args.shard):
        raise GatherError("--work goes with --distributed, which takes neither --merge nor "
                          "--shard (each rank gathers its shard, rank 0 merges)")
    if args.merge:
        return _run_merge(args, source if (args.urls or args.api) else None)
    opts = gather_options(args)
    if args.distributed:
        return _run_distributed(args, source, opts)
    _log_to_file(_open_log(args.log, args.out), args.quiet)
    result = gather(source, args.out, opts, progress=not args.quiet)
    print(summary_table(result))
    print(f"wrote {result.manifest} and {result.summary_path}")
    return 0


def _run_distributed(args, source, opts):
    from mlimages.gather.distributed import gather_distributed, job_table
    result = gather_distributed(
        source, args.out, opts, work=args.work, progress=not args.quiet,
        on_start=lambda folder: _log_to_file(_open_log(args.log, folder), args.quiet))
    if result is not None:  # rank 0
        print(job_table(result))
        print(f"wrote {result.view.manifest} and {result.view.summary_path}")
    return 0


def _run_merge(args, source):
    from mlimages.gather.merge import merge_shards, merge_table
    result = merge_shards(args.merge, args.out, source, move=args.move, limit=args.limit)
    print(merge_table(result))
    print(f"wrote {result.manifest} and {result.summary_path}")
    return 0


def _open_log(log, out):
    """The log's stream: ``--log`` as given, else OUT/gather.log (OUT is created first; the
    default log is one of gather's own files, never opened through a link)."""
    import os
    from mlimages.gather import GatherError
    from mlimages.gather.names import make_out, open_own
    from mlimages.gather.outdir import LOG
    out = make_out(out)
    if log is None:
        fd = open_own(out / LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        return os.fdopen(fd, "a", encoding="utf-8")
    try:
        return open(log, "a", encoding="utf-8")
    except OSError as e:
        raise GatherError(f"--log {log}: {e.strerror}; give a file in an existing folder") \
            from None


def _log_to_file(stream, quiet):
    """Every failure goes to the log file; the console shows warnings (info with -v)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    for console in root.handlers:
        console.setLevel(logging.WARNING if quiet else max(root.level, logging.INFO))
    logger = logging.getLogger("mlimages.gather")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
