"""Duplicate groups: the same bytes, the same pixels, or a look within ``near`` dhash bits.

Pure functions of the scanned records (``scan.Scanned``); ``label --group-duplicates`` and
``--drop-duplicates`` use them too. A group is a connected component: two images are joined
when one of the three matches holds (a near pair also needs similar 16x16 grey copies:
``options.LOOK_TOLERANCE``), so a chain of near pairs is one group even where its
ends are further apart than ``near``.
"""

from typing import NamedTuple

import numpy

from mlimages.audit.hashes import look_difference
from mlimages.audit.near import components, near_pairs
from mlimages.audit.options import LOOK_TOLERANCE

#: Below this grey-histogram entropy (bits) an image is too flat for its dhash to mean
#: anything (a blank image hashes to 0, within a few bits of any smooth one): such images
#: are matched by bytes and pixels only.
FLAT_ENTROPY = 2.0


class Member(NamedTuple):
    """One image of a group: its index in the scanned records, how it matches the group
    (``kept`` for the image kept; ``bytes`` or ``pixels`` when another member has the same,
    else ``near``) and its dhash distance to the kept image (the smaller of straight and
    mirrored)."""

    index: int
    match: str
    distance: int


def _equal_pairs(keys):
    """Pairs (i, j) joining each index to the first index with the same non-empty key."""
    first, i, j = {}, [], []
    for index, key in enumerate(keys):
        if key:
            head = first.setdefault(key, index)
            if head != index:
                i.append(head)
                j.append(index)
    return i, j


def _look_pairs(scanned, good, near, mirrored):
    """Near pairs among the ``good`` records, each confirmed by its 16x16 grey copies
    (``options.LOOK_TOLERANCE``); with ``mirrored``, an image's hash is also compared with
    the others' mirror hashes (a left-right flipped copy)."""
    if near < 0 or not good:
        return [], []
    hashes = [scanned[k].dhash for k in good]
    if mirrored:
        hashes += [scanned[k].mirror for k in good]
    i, j, _ = near_pairs(numpy.array(hashes, dtype=numpy.uint64), near)
    ids = numpy.array(good * (2 if mirrored else 1))
    pairs = [(a, b) for a, b in zip(ids[i].tolist(), ids[j].tolist())
             if a != b                # a symmetric image is near its own mirror
             and look_difference(scanned[a].tiny, scanned[b].tiny) <= LOOK_TOLERANCE]
    return [a for a, _ in pairs], [b for _, b in pairs]


def _kept(members, scanned):
    """The member an audit keeps: the most pixels, then the most bytes, then the first."""
    return max(members, key=lambda k: (scanned[k].width * scanned[k].height,
                                       scanned[k].nbytes, -k))


def _member(k, kept, members, scanned):
    """Member ``k``: ``bytes`` when another member has its bytes, else ``pixels`` when
    another has its pixels, else ``near``; its distance is to the kept image."""
    a, b = scanned[k], scanned[kept]
    if k == kept:
        return Member(k, "kept", 0)
    distance = min((a.dhash ^ b.dhash).bit_count(), (a.dhash ^ b.mirror).bit_count())
    others = [scanned[m] for m in members if m != k]
    if a.sha1 and any(o.sha1 == a.sha1 for o in others):   # "": not hashed (scan)
        return Member(k, "bytes", distance)
    if any(o.pixels == a.pixels for o in others):
        return Member(k, "pixels", distance)
    return Member(k, "near", distance)


def find_groups(scanned, near, mirrored=True):
    """The duplicate groups among ``scanned`` records (unreadable ones take no part).

    Args:
        scanned: list of ``scan.Scanned``.
        near (int): dhash bits for a near pair; -1: exact matches only.
        mirrored (bool): a left-right flipped copy counts as a near duplicate.
            Images flatter than FLAT_ENTROPY take no part in the near search.

    Returns:
        list of groups, each a list of :class:`Member` (the kept image first, then by index);
        groups ordered by their first index. Images in no group are left out.
    """
    good = [k for k, s in enumerate(scanned) if not s.error]
    looks = [k for k in good if scanned[k].entropy >= FLAT_ENTROPY]
    edges = [_equal_pairs([s.sha1 if not s.error else "" for s in scanned]),
             _equal_pairs([s.pixels if not s.error else "" for s in scanned]),
             _look_pairs(scanned, looks, near, mirrored)]
    i = [a for pair in edges for a in pair[0]]
    j = [b for pair in edges for b in pair[1]]
    labels = components(len(scanned), i, j)
    members = {}
    for k in sorted(set(i) | set(j)):
        members.setdefault(int(labels[k]), []).append(k)
    groups = []
    for root in sorted(members):
        kept = _kept(members[root], scanned)
        order = [kept] + [k for k in members[root] if k != kept]
        groups.append([_member(k, kept, order, scanned) for k in order])
    return groups
