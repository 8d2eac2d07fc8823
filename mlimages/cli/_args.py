"""What every command's arguments share: value types, the help formatter, and defaults.

A flag that sets a field of an options dataclass is added with :func:`add_field`, which reads
its default from the dataclass; :func:`options_from` builds the dataclass back from the parsed
arguments. So each default is written once, beside the field it belongs to.

The type functions keep their leading underscore: argparse names a type in the message for a
value it cannot convert (``invalid _fraction value: 'x'``). ``dataclasses`` and ``inspect`` are
imported where used: ``mlimages --version`` and the help of the other commands need neither.
"""

import argparse


class _Formatter(argparse.ArgumentDefaultsHelpFormatter,
                 argparse.RawDescriptionHelpFormatter):
    """Show defaults and keep the description's line breaks."""


class _Given(argparse.Action):
    """Store the value (``const`` for a switch: ``nargs=0``) and remember that it was given:
    with --resume, the options not given on the command line come from the run's args.json
    instead of the defaults."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)
        namespace.given = getattr(namespace, "given", set()) | {self.dest}


# --------------------------------------------------------------------- types
def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


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


_BYTE_UNITS = (("GB", 10**9), ("MB", 10**6), ("kB", 10**3))


def _bytes(text):
    units = {unit[0].lower(): factor for unit, factor in _BYTE_UNITS}
    t = text.strip().lower().removesuffix("b")
    try:
        return int(float(t[:-1]) * units[t[-1]]) if t and t[-1] in units else int(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a byte count such as 20000000 or 20MB, "
                                         f"got {text}")


def bytes_text(count):
    """``count`` as :func:`_bytes` reads it back, in the largest exact unit (20000000 -> "20MB")."""
    for unit, factor in _BYTE_UNITS:
        if count and count % factor == 0:
            return f"{count // factor}{unit}"
    return str(count)


def _names(text):
    """A comma-separated list as a tuple, blanks dropped ("a, b,," -> ("a", "b"))."""
    return tuple(n.strip() for n in text.split(",") if n.strip())


# ------------------------------------------------------------------ defaults
def default(options, name):
    """The default of field ``name`` of the dataclass ``options`` (a factory's is called).

    Raises:
        KeyError: ``options`` has no such field, or the field has no default.
    """
    import dataclasses
    field = {f.name: f for f in dataclasses.fields(options)}[name]
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise KeyError(f"{options.__name__}.{name} has no default")


def param_default(function, name):
    """The default of parameter ``name`` of ``function``, for a flag that feeds it directly."""
    import inspect
    return inspect.signature(function).parameters[name].default


def add_field(group, flag, options, as_flag=None, **kwargs):
    """Add ``flag``, which sets the field of ``options`` named like it, with that field's default.

    Args:
        group: an ``ArgumentParser`` or argument group.
        flag (str): e.g. ``"--per-host"``; its dest, ``per_host``, is the field's name.
        options: the dataclass (the class) the flag's value goes to.
        as_flag (callable): turns the field's default into the flag's where the parsed type
            differs (e.g. :func:`bytes_text`, or ``list`` for an ``append`` action).
        **kwargs: passed to ``add_argument`` (never ``default``).

    Returns:
        argparse.Action: the added argument.
    """
    value = default(options, flag.lstrip("-").replace("-", "_"))
    return group.add_argument(flag, default=as_flag(value) if as_flag else value, **kwargs)


def field_values(args, options, only=None):
    """The parsed arguments named like fields of ``options``, as a dict.

    Args:
        args (argparse.Namespace): the parsed command line.
        options: an options dataclass (the class).
        only (set): keep only these names (e.g. the options given on the command line).
    """
    import dataclasses
    names = {f.name for f in dataclasses.fields(options)}
    return {k: v for k, v in vars(args).items()
            if k in names and (only is None or k in only)}


def options_from(args, options, **overrides):
    """``options`` (a dataclass) built from the parsed arguments named like its fields.

    ``overrides`` replace arguments whose parsed form is not the field's (a comma string for
    a tuple, a list for a tuple) and set fields that are no flag (a nested options object).
    """
    return options(**(field_values(args, options) | overrides))
