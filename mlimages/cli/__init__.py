"""The command line: the only place that knows about flags.

Each subcommand is a :class:`Command` in ``COMMANDS``: its one-line help, ``add(parser)``
(its arguments, each default read from the stage's options dataclass) and ``run(args)``
(build the options, make one library call, print its report). One module per command:

    _args.py   value types, the help formatter, add_field / options_from (defaults, once)
    gather.py  label.py  mean.py  train.py  audit.py
    tools.py   predict, inspect, info, demo
    pretrained.py  export.py   pretrained weights by name; a run as ONNX
    _process.py  the process-wide state a command runs under (streams, signals, the pools'
                 server started early) and the process's end after gather

Library errors (:class:`mlimages.errors.MlimagesError`) are printed as one line, exit
status 2. While a command runs, output whose reader went away (a closed pipe or terminal) is
dropped instead of raising BrokenPipeError in the middle of the work.
SIGTERM and SIGHUP end a command as Ctrl-C does (exit status 128 + the signal's
number; 130 for Ctrl-C), unless the process was started with them ignored (``nohup``).
"""

import argparse
import logging
import signal
import sys
from typing import Callable, NamedTuple

from mlimages import __version__
from mlimages.cli import audit, evaluate, export, gather, label, mean, pretrained, tools, train
from mlimages.cli._args import _Formatter
from mlimages.cli._process import (end_process, outputs_may_break, start_pool_server,
                                   termination_interrupts)
from mlimages.errors import MlimagesError


class Command(NamedTuple):
    """A subcommand: its one-line help, how to add its arguments, how to run it, the
    modules its process-pool workers run, to import in the pools' server before it parses
    (:func:`start_pool_server`; only for a command that always starts a pool), and whether
    the program ends without the interpreter's teardown once it is done (:func:`program`)."""

    help: str
    add: Callable
    run: Callable
    preload: "tuple[str, ...]" = ()
    end_early: bool = False


COMMANDS = {
    "gather":  Command(gather.HELP,        gather.add,        gather.run, end_early=True),
    "label":   Command(label.HELP,         label.add,         label.run),
    "mean":    Command(mean.HELP,          mean.add,          mean.run,   ("mlimages.mean",)),
    "train":   Command(train.HELP,         train.add,         train.run),
    "evaluate": Command(evaluate.HELP,     evaluate.add,      evaluate.run),
    "audit":   Command(audit.HELP,         audit.add,         audit.run),
    "predict": Command(tools.PREDICT_HELP, tools.add_predict, tools.run_predict),
    "inspect": Command(tools.INSPECT_HELP, tools.add_inspect, tools.run_inspect),
    "info":    Command(tools.INFO_HELP,    tools.add_info,    tools.run_info),
    "demo":    Command(tools.DEMO_HELP,    tools.add_demo,    lambda args: tools.run_demo(args, main)),
    "pretrained": Command(pretrained.HELP, pretrained.add,    pretrained.run),
    "export":  Command(export.HELP,        export.add,        export.run),
}


def build_parser(command=None):
    """The argument parser; with ``command``, only that subcommand's arguments are built.

    Building a subcommand imports its stage for defaults and choices (gather's pulls in no
    NumPy, train's no Chainer; label's and mean's do import NumPy): building only the
    one that runs keeps every command's start-up to what it needs. The others are still
    listed in ``--help``.
    """
    parser = argparse.ArgumentParser(
        prog="mlimages", formatter_class=_Formatter,
        description="Image dataset preparation and CNN training: "
                    "gather -> label -> mean -> train.")
    parser.add_argument("--version", action="version", version=f"mlimages {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging (mlimages' own)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, cmd in COMMANDS.items():
        p = sub.add_parser(name, help=cmd.help, formatter_class=_Formatter)
        # After the command name too; SUPPRESS: not given there, the value before it stands.
        p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="debug logging (mlimages' own; also before the command name)")
        if command is None or name == command:
            cmd.add(p)
    return parser


def _command_in(argv):
    """The subcommand named in ``argv`` (the first word that is not an option), or None."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def _asks_help(argv):
    """Whether a word of ``argv`` asks for help or the version (then the command will not
    run; an option's value that reads so counts too, which only skips the early start)."""
    return any(word in ("-h", "--help", "--version") for word in argv)


def program():
    """The ``mlimages`` program (its console script, ``python -m mlimages``): :func:`main`,
    then the process ends with its status; after a command marked ``end_early`` (gather)
    without the interpreter's teardown (:func:`~mlimages.cli._process.end_process`)."""
    status = main()
    command = COMMANDS.get(_command_in(sys.argv[1:]))
    if command is not None and command.end_early:
        end_process(status)
    sys.exit(status)


def main(argv=None):
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command_in(argv)
    if command is not None and COMMANDS[command].preload and not _asks_help(argv):
        start_pool_server(COMMANDS[command].preload)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # -v: mlimages' own debug lines, not those of every library (matplotlib's font search).
    logging.getLogger("mlimages").setLevel(logging.DEBUG if args.verbose else logging.NOTSET)
    with outputs_may_break(), termination_interrupts() as received:
        try:
            return COMMANDS[args.command].run(args) or 0
        except KeyboardInterrupt:
            signum = received[-1] if received else signal.SIGINT
            name = f" ({signal.Signals(signum).name})" if received else ""
            print(f"mlimages {args.command}: interrupted{name}", file=sys.stderr)
            return 128 + signum
        except (MlimagesError, FileNotFoundError) as e:
            print(f"mlimages {args.command}: error: {e}", file=sys.stderr)
            return 2
