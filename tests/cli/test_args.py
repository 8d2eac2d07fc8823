"""The flags' defaults are the options dataclasses' (mlimages/cli/_args.py and its users)."""

import dataclasses
import inspect
import subprocess
import sys

import pytest

from mlimages.cli import build_parser, gather, label, mean, tools, train
from mlimages.cli._args import _bytes, bytes_text, default
from mlimages.gather import GatherOptions, SourceOptions
from mlimages.label import LabelOptions
from mlimages.mean import MeanOptions, mean_image
from mlimages.training.options import FinetuneOptions, TrainOptions

#: The dataclasses whose fields each command's flags set.
OPTIONS = {"gather": (SourceOptions, GatherOptions), "label": (LabelOptions,),
           "mean": (MeanOptions,), "train": (TrainOptions, FinetuneOptions)}

#: Fields no flag sets: the chunk size is the library's choice; finetune is built from its
#: own flags; train is a positional (required unless --resume).
NO_FLAG = {"chunk", "finetune", "train"}

#: Flags whose parsed form is not the field's, and how the command converts it.
AS_FIELD = {"wnid": tuple, "placeholder": tuple,
            "extensions": lambda text: tuple("." + e for e in text.split(","))}


def _subparser(command):
    return build_parser(command)._subparsers._group_actions[0].choices[command]


def _flag_default(action):
    """The value a flag has when not given, in the form of its dataclass field."""
    value = action.default
    if isinstance(value, str) and action.type is not None:
        value = action.type(value)  # argparse converts a string default the same way
    return AS_FIELD.get(action.dest, lambda v: v)(value)


@pytest.mark.parametrize("command", sorted(OPTIONS))
def test_every_flag_of_a_field_has_the_field_default(command):
    actions = {a.dest: a for a in _subparser(command)._actions}
    for options in OPTIONS[command]:
        for field in dataclasses.fields(options):
            if field.name in NO_FLAG:
                continue
            assert field.name in actions, f"{options.__name__}.{field.name} has no flag"
            assert _flag_default(actions[field.name]) == default(options, field.name), field.name


def test_flags_that_feed_a_function_have_its_default():
    actions = {a.dest: a for a in _subparser("mean")._actions}
    params = inspect.signature(mean_image).parameters
    assert actions["root"].default == params["root"].default
    assert actions["out"].default == params["out"].default


def test_the_literal_defaults_match_their_functions():
    from mlimages.demo import run_demo
    from mlimages.models.sizes import inspect_size
    from mlimages.predict import predict
    for command, flag, function, param in (("predict", "top", predict, "top"),
                                           ("inspect", "classes", inspect_size, "n_classes"),
                                           ("demo", "out", run_demo, "out")):
        flags = {a.dest: a.default for a in _subparser(command)._actions}
        assert flags[flag] == inspect.signature(function).parameters[param].default


def _parse(*argv):
    return build_parser(argv[0]).parse_args(argv)


def test_no_optional_flags_give_the_default_options():
    args = _parse("gather", "--out", "o")
    assert gather.source_options(args) == SourceOptions()
    assert gather.gather_options(args) == GatherOptions()
    assert label.label_options(_parse("label", "root", "--out", "o")) == LabelOptions()
    assert mean.mean_options(_parse("mean", "list.txt")) == MeanOptions()
    assert train.train_options(_parse("train", "t.txt")) == TrainOptions(train="t.txt")


def test_flags_reach_the_options():
    args = _parse("gather", "--out", "o", "--wnid", "n1,n2", "--wnid", "n3", "--max-bytes",
                  "1.5kB", "--placeholder", "p.png", "--per-host", "3", "--shard", "2/4")
    assert gather.source_options(args).wnid == ("n1", "n2", "n3")
    assert gather.source_options(args).shard == (2, 4)
    assert gather.gather_options(args) == GatherOptions(max_bytes=1500, placeholder=("p.png",),
                                                        per_host=3)
    opts = label.label_options(_parse("label", "r", "--out", "o", "--extensions", "jpg, .PNG,"))
    assert opts.extensions == (".jpg", ".PNG")
    opts = train.train_options(_parse("train", "t.txt", "--freeze", "conv1,conv2", "--lr", "0.1"))
    assert opts == TrainOptions(train="t.txt", lr=0.1,
                                finetune=FinetuneOptions(freeze=("conv1", "conv2")))
    opts = train.train_options(_parse("train", "t.txt", "--normalize-on-device"))
    assert opts == TrainOptions(train="t.txt", normalize_on_device=True)


@pytest.mark.parametrize("count", [0, 1, 999, 1000, 20_000_000, 1_500_000, 3 * 10**9])
def test_bytes_text_reads_back(count):
    assert _bytes(bytes_text(count)) == count


def test_bytes_text_uses_the_largest_exact_unit():
    assert bytes_text(20_000_000) == "20MB"
    assert bytes_text(1_500_000) == "1500kB"


def test_building_the_train_parser_imports_neither_chainer_nor_numpy():
    code = ("import sys; from mlimages.cli import build_parser, train; "
            "train.train_options(build_parser('train').parse_args(['train', 't.txt'])); "
            "print(sorted(m for m in ('chainer', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
