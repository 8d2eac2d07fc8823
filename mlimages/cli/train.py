"""``mlimages train``: its flags (defaults from TrainOptions and FinetuneOptions) and its run.

Building the parser imports :mod:`mlimages.training.options` only, not Chainer or NumPy.
Every flag that sets an option is a :class:`_Given` action, so that ``--resume OUT`` can tell
the options given again (they replace OUT/args.json's) from the defaults.
"""

import sys

from mlimages.cli._args import _Given, _names, add_field, default, field_values, options_from

HELP = "train a CNN (Chainer Trainer) on list files; snapshots, logs, plots, resume"

DESCRIPTION = """\
Trains ARCH on TRAIN (a 'path label' list) with the mean image subtracted,
random crops and flips; evaluates on --val every epoch. Images are brought
to the size and with the resize mode recorded in the mean's .json (written
by `mlimages mean`; --size and --resize say them again). Before the first
iteration every listed image is looked for: more than --max-missing of a
list missing stops the run, fewer are named and skipped. Prints what it
found, then one row per epoch (loss, acc, val_loss, val_acc, lr, time in
seconds; a row every --log-interval iterations too when that is given,
marked "(interval)") and, on a terminal, a progress bar on stderr.
Writes the log (JSON and CSV), curves.png (loss and accuracy by epoch,
the best epoch marked; also loss.png and accuracy.png), snapshots every
epoch and every --snapshot-interval iterations (last --keep kept), and
model.npz, label_def.txt, mean.npy and args.json for `mlimages predict`.
With --val, model_best.npz is the network at its best --best figure
(best.json says which epoch); --patience N stops after N epochs without
improvement. An --out that holds a run is refused: continue it with
--resume, or replace it with --overwrite.
Ctrl-C, SIGTERM or SIGHUP stops after the current iteration with a
snapshot and model.npz (exit status 130); output lost to a closed pipe
(`| tee log` killed by the same Ctrl-C) does not stop the run.
`--resume OUT` continues a run; options not given again come from
OUT/args.json (give e.g. a larger --epoch to train longer)."""


def add(p):
    """Add train's arguments to the subparser ``p``."""
    p.description = DESCRIPTION
    _add_data(p)
    _add_optimisation(p)
    _add_run_control(p)
    _add_finetuning(p)
    p.add_argument("--distributed", action="store_true",
                   help="one rank of `mpiexec -n N mlimages train ... --distributed`: data-"
                        "parallel over MPI (ChainerMN); --batchsize is per rank, the effective "
                        "batch is N times it; needs pip install mpi4py mpich")
    p.add_argument("--quiet", action="store_true",
                   help="print only the final summary: no start line, no epoch table, no "
                        "progress bar")


def _add_data(p):
    """What the run reads, and where it writes."""
    from mlimages.training.options import TrainOptions as T
    p.add_argument("train", nargs="?", help="training list file (path label)")
    add_field(p, "--val", T, action=_Given, help="validation list file")
    add_field(p, "--root", T, action=_Given, help="folder the list paths are relative to")
    add_field(p, "--mean", T, action=_Given, help="mean image from `mlimages mean`")
    add_field(p, "--label-def", T, action=_Given, metavar="FILE",
              help="class names; none given: label_def.txt beside TRAIN")
    add_field(p, "--out", T, action=_Given, help="output folder")
    add_field(p, "--max-missing", T, type=float, action=_Given, metavar="FRACTION",
              help="stop before training when more than this fraction of a list's images "
                   "is missing (fewer: a warning, and they are skipped)")
    add_field(p, "--rewrite-prefix", T, action=_GivenRule, metavar="OLD=NEW",
              help="read listed paths under the folder OLD under NEW instead (lists made on "
                   "another machine); repeat for several; the rewritten lists are written "
                   "to OUT/lists/ and trained on")
    p.add_argument("--overwrite", action="store_true",
                   help="--out holds an earlier run: remove that run's files (args.json, "
                        "logs, snapshots, model files; nothing else) before writing")


def _add_optimisation(p):
    """The network, its input and the optimiser."""
    from mlimages.defaults import ARCH_NAMES, RESIZE_MODES
    from mlimages.training.options import TrainOptions as T
    g = {"action": _Given}
    add_field(p, "--arch", T, choices=ARCH_NAMES, **g, help="network")
    p.add_argument("--epoch", "--epochs", type=int, default=default(T, "epoch"), **g,
                   help="epochs to train")
    add_field(p, "--batchsize", T, type=int, **g, help="training mini-batch size")
    add_field(p, "--val-batchsize", T, type=int, **g, help="validation batch size")
    add_field(p, "--crop", T, type=int, **g, help="input side (default: the network's own, "
              "alex 227, small 64); checked first, see `mlimages inspect`")
    add_field(p, "--size", T, type=int, **g, help="side images are brought to before "
              "cropping (default: the mean's, from its .json); must be the mean's side")
    add_field(p, "--resize", T, choices=RESIZE_MODES, **g, help="how images are brought to "
              "--size (default: as the mean was made, from its .json; else downscale)")
    add_field(p, "--lr", T, type=float, **g, help="MomentumSGD learning rate")
    add_field(p, "--momentum", T, type=float, **g, help="momentum")
    add_field(p, "--weight-decay", T, type=float, **g, help="L2 weight decay")
    add_field(p, "--lr-decay", T, type=float, **g,
              help="learning-rate factor applied every --lr-decay-every epochs")
    add_field(p, "--lr-decay-every", T, type=int, **g, help="epochs per lr step")


def _add_run_control(p):
    """Logging, snapshots, device, seed, cache, normalization, the best model, --resume."""
    from mlimages.training.options import BEST_METRICS, TrainOptions as T
    g = {"action": _Given}
    add_field(p, "--log-interval", T, type=int, **g,
              help="iterations between entries of the log files (there is also one per "
                   "epoch); given, also between printed rows marked (interval)")
    add_field(p, "--snapshot-interval", T, type=int, **g,
              help="iterations between snapshots (there is also one per epoch)")
    add_field(p, "--keep", T, type=int, **g, help="snapshots of each kind kept")
    add_field(p, "--gpu", T, type=int, **g, help="CUDA device number; -1: CPU")
    add_field(p, "--seed", T, type=int, **g, help="seed for a reproducible run")
    add_field(p, "--cache", T, metavar="DIR", **g,
              help="keep every image, resized, in a memory-mapped file under DIR: the "
                   "first epoch decodes, later epochs (and runs) only crop and flip; "
                   "needs 196 KiB of disk per 256x256 image")
    add_field(p, "--normalize-on-device", T, nargs=0, const=True, **g,
              help="the loaders hand out uint8 crops; the mean is subtracted and the scale "
                   "applied on the device (--gpu): a quarter of the bytes per batch, the same "
                   "numbers")
    add_field(p, "--best", T, choices=list(BEST_METRICS), **g,
              help="validation figure that picks model_best.npz (needs --val)")
    add_field(p, "--patience", T, type=int, metavar="N", **g,
              help="stop after N epochs without improvement of --best; None: never")
    p.add_argument("--resume", metavar="SNAPSHOT_OR_OUT",
                   help="continue from a snapshot, or from the latest one in an output folder")


def _add_finetuning(p):
    """Starting from trained weights: the fields of FinetuneOptions."""
    from mlimages.training.options import FinetuneOptions as F
    g = {"action": _Given}
    add_field(p, "--init-model", F, **g, help="start from these weights: the model.npz of an "
              "earlier run or a Caffe .caffemodel (layers whose shapes match)")
    add_field(p, "--freeze", F, type=_names, **g,
              help="comma-separated layers that get no updates, e.g. conv1,...,conv5")
    add_field(p, "--freeze-until", F, metavar="LAYER", **g,
              help="freeze every layer from the input up to and including LAYER")
    add_field(p, "--pretrained-lr-scale", F, type=float, **g,
              help="learning-rate factor for loaded layers that are not frozen")


class _GivenRule(_Given):
    """--rewrite-prefix: each OLD=NEW given is added to the list (kept as text: the run step
    parses it, so that a malformed rule is the library's one-line error)."""

    def __call__(self, parser, namespace, values, option_string=None):
        rules = list(getattr(namespace, self.dest, None) or ()) + [values]
        super().__call__(parser, namespace, rules, option_string)


def _rules(args):
    """--rewrite-prefix as (OLD, NEW) pairs (ListFileError for a rule without "=")."""
    from mlimages.listfile import parse_prefix_rule
    return tuple(parse_prefix_rule(rule) for rule in args.rewrite_prefix)


def train_options(args):
    """TrainOptions from the command line, over OUT/args.json when resuming.

    Raises:
        TrainError: neither a training list nor --resume was given.
        mlimages.listfile.ListFileError: a --rewrite-prefix rule is not OLD=NEW.
    """
    from mlimages.training.options import FinetuneOptions, TrainError, TrainOptions
    if args.resume:
        return _resumed_options(args)
    if not args.train:
        raise TrainError("give the training list (mlimages train lists/train.txt ...), or "
                         "--resume OUT to continue a run")
    return options_from(args, TrainOptions, finetune=options_from(args, FinetuneOptions),
                        rewrite_prefix=_rules(args))


def _resumed_options(args):
    """The options in the args.json of the run --resume names, with those given replaced."""
    import dataclasses
    from pathlib import Path
    from mlimages.training.options import FinetuneOptions, TrainOptions
    from mlimages.training.rundir import load_options
    given = getattr(args, "given", set()) | ({"train"} if args.train else set())
    resume = Path(args.resume)
    out = resume if resume.is_dir() else resume.parent
    base = load_options(out)
    tune = field_values(args, FinetuneOptions, only=given)
    rest = {"out": str(out)} | field_values(args, TrainOptions, only=given)
    if "rewrite_prefix" in rest:
        rest["rewrite_prefix"] = _rules(args)
    return dataclasses.replace(base, finetune=dataclasses.replace(base.finetune, **tune),
                               **rest)


def _progress(args):
    """What the run prints: nothing with --quiet; interval rows only when --log-interval is
    given (its default still logs to the files every 100 iterations)."""
    if args.quiet:
        return False
    return "intervals" if "log_interval" in getattr(args, "given", set()) else True


#: The signals that stop a run after the current iteration, with a snapshot and model.npz:
#: Ctrl-C, `kill` (and schedulers, systemd), a closed terminal or ssh session.
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def run(args):
    """Train; the first SIGINT, SIGTERM or SIGHUP stops after the iteration with a snapshot
    and model.npz (exit status 130); a second one stops at once, still with a snapshot. A
    signal ignored when the process started (SIGHUP under ``nohup``) stays ignored."""
    import signal
    import threading
    from mlimages.training.run import train
    from mlimages.training.summary import summary
    opts = train_options(args)
    stop = threading.Event()

    def request_stop(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        try:  # after SIGHUP the terminal may be gone
            print(f"\nstopping after this iteration and writing a snapshot "
                  f"({signal.Signals(signum).name}; press Ctrl-C again to stop at once)",
                  file=sys.stderr, flush=True)
        except (OSError, ValueError):
            pass

    # A signal the process was started with ignored stays ignored (`nohup` ignores SIGHUP).
    signals = [getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)]
    old = {s: signal.signal(s, request_stop) for s in signals
           if signal.getsignal(s) != signal.SIG_IGN}
    try:
        result = train(opts, resume=args.resume, stop=stop, progress=_progress(args),
                       distributed=args.distributed, overwrite=args.overwrite)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    if result.rank == 0:  # under mpiexec, one report
        print(summary(result))
    return 130 if result.interrupted else 0
