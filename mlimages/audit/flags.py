"""Quality flags and leakage: pure functions of the scanned records and their items.

A flag is ``(name, value, threshold)``: the number measured (see ``hashes``) and the one it
was compared with, so that every flag explains itself (``options.FLAGS`` says how).
"""

from typing import NamedTuple


class Flag(NamedTuple):
    """One flag of one image: its index, the flag's name, the value measured, the threshold."""

    index: int
    name: str
    value: float
    threshold: float


def _is_colour_set(scanned, opts):
    """True when most readable images are colour (a grey image is then worth a flag)."""
    good = [s for s in scanned if not s.error]
    colour = sum(s.colour >= opts.max_colour for s in good)
    return bool(good) and colour * 2 > len(good)


def image_flags(k, s, opts, colour_set):
    """The flags of record ``s`` (index ``k``) under the thresholds of ``opts``."""
    short, long = sorted((s.width, s.height))
    checks = [("too_small", short, opts.min_side, short < opts.min_side),
              ("extreme_aspect", round(long / max(short, 1), 2), opts.max_aspect,
               long > opts.max_aspect * short),
              ("low_information", round(s.entropy, 3), opts.min_entropy,
               s.entropy < opts.min_entropy),
              ("blurry", round(s.sharpness, 1), opts.min_sharpness,
               s.sharpness < opts.min_sharpness),
              ("grayscale", round(s.colour, 2), opts.max_colour,
               colour_set and s.colour < opts.max_colour)]
    return [Flag(k, name, value, limit) for name, value, limit, hit in checks if hit]


def quality_flags(scanned, opts):
    """Every flag of every readable image, in image order (AuditOptions thresholds)."""
    colour_set = _is_colour_set(scanned, opts)
    return [f for k, s in enumerate(scanned) if not s.error
            for f in image_flags(k, s, opts, colour_set)]


class Leak(NamedTuple):
    """A duplicate group (its position in the groups) seen in more than one split or class."""

    group: int
    splits: tuple
    classes: tuple


def leaks(groups, items):
    """The groups that straddle splits (images without a split are not counted) or classes.

    Args:
        groups: as ``groups.find_groups`` returns them.
        items: the ``inputs.Item`` of every scanned record, same order.
    """
    found = []
    for g, members in enumerate(groups):
        splits = tuple(sorted({items[m.index].split for m in members} - {""}))
        classes = tuple(sorted({items[m.index].cls for m in members}))
        if len(splits) > 1 or len(classes) > 1:
            found.append(Leak(g, splits, classes))
    return found
