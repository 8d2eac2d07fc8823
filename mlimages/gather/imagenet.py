"""ImageNet synsets: folder names from ``words.txt``, hyponyms from ``wordnet.is_a.txt`` or the
ImageNet text API, and the plan that gives each synset to gather a folder.

Each wnid gets a folder named from ``words.txt`` as the original mlimages did (first name,
lower case, spaces to underscores; the wnid without it), hyponyms (``--subset``) nested under
their parent's folder unless ``flat``::

    OUT/
      cat/                 n02121808 (words.txt: "domestic cat, house cat, ...")
        persian_cat/       n02123394, a hyponym, with --subset
"""

import re
from collections import Counter, deque

from mlimages.gather.names import safe_component
from mlimages.gather.records import GatherError, Item

WNID = re.compile(r"^n\d{8}$")
_API_FLAGS = {"timeout": "--timeout", "too_large": "--max-bytes"}  # the flag to raise


def as_text(raw):
    """Bytes of a list or ``words.txt`` line -> str (bytes that are not UTF-8 become U+FFFD)."""
    return raw.decode("utf-8", "replace")


def plan_synsets(roots, children_of, names_of, subset, flat):
    """Give each synset to gather a folder.

    Args:
        roots (sequence of str): the wnids asked for.
        children_of (callable): wnid -> list of hyponym wnids.
        names_of (callable): iterable of wnids -> {wnid: name} (names may be missing).
        subset (bool): add every hyponym, breadth first; a synset reached twice is taken once.
        flat (bool): hyponym folders at the top instead of nested under the parent's.

    Returns:
        dict: wnid -> relative POSIX folder, in gathering order.  Siblings that would share a
        folder name are told apart by their wnid (``crane_n02012849``).
    """
    order, parent, queue = [], {}, deque((w, None) for w in roots)
    while queue:
        wnid, up = queue.popleft()
        if wnid in parent:
            continue
        parent[wnid] = up
        order.append(wnid)
        if subset:
            queue.extend((child, wnid) for child in children_of(wnid) if child not in parent)
    names = names_of(order)
    base = {w: safe_component(names.get(w) or w) for w in order}

    def group(w):
        return None if flat or parent[w] is None else parent[w]

    taken = Counter((group(w), base[w].lower()) for w in order)
    folders = {}
    for w in order:
        name = base[w] if taken[group(w), base[w].lower()] == 1 else f"{base[w]}_{w}"
        top = group(w)
        folders[w] = name if top is None else f"{folders[top]}/{name}"
    return folders


def folder_name(names_line):
    """``"domestic cat, house cat"`` -> ``"domestic_cat"`` (the original's rule)."""
    first = names_line.split(",")[0].strip()
    return first.lower().replace(" ", "_")


class FileCatalog:
    """Synset names and hyponyms from ``words.txt`` and ``wordnet.is_a.txt``."""

    def __init__(self, words=None, is_a=None):
        self.words, self.is_a = words, is_a
        self._children = None
        self._all_names = None

    def names(self, wnids):
        """{wnid: folder name} for the wnids found in ``words.txt`` (streamed once)."""
        if not self.words:
            return {}
        wanted, found = set(wnids), {}
        with open(self.words, "rb") as f:
            for raw in f:
                wnid, tab, text = raw.partition(b"\t")
                wnid = as_text(wnid.strip())
                if tab and wnid in wanted:
                    found[wnid] = folder_name(as_text(text))
        return found

    def name(self, wnid):
        """One synset's folder name (loads all of ``words.txt`` once: ~82k short lines)."""
        if self._all_names is None:
            self._all_names = self.names(_all_wnids(self.words)) if self.words else {}
        return self._all_names.get(wnid) or wnid

    def children(self, wnid):
        if self._children is None:
            self._children = _read_is_a(self.is_a)
        return sorted(self._children.get(wnid, ()))


def _all_wnids(words):
    with open(words, "rb") as f:
        return [as_text(raw.partition(b"\t")[0].strip()) for raw in f]


def _read_is_a(path):
    children = {}
    with open(path, "rb") as f:
        for raw in f:
            parts = as_text(raw).split()
            if len(parts) == 2:
                children.setdefault(parts[0], set()).add(parts[1])
    return children


class ApiCatalog:
    """The ImageNet text API as the original called it (or a mirror at ``base``).

    Each request is :func:`mlimages.gather.fetch.fetch_now`: one total deadline, a byte cap, no
    retries; any failure is a :class:`GatherError`.

    Args:
        base (str): the API's base URL (``--api``).
        timeout (float or None): total seconds per request (``--timeout``); None: its default.
        max_bytes (int or None): the largest answer read (``--max-bytes``); None: its default.
        proxy (str or None): ``--proxy``; None uses the environment's.
    """

    def __init__(self, base, timeout=None, max_bytes=None, proxy=None):
        # Imported here: only this source needs them (aiohttp would slow every other start), and
        # GatherOptions holds the flags' defaults, written once there.
        from mlimages.gather import fetch
        from mlimages.gather.options import GatherOptions

        defaults = GatherOptions()
        self.base = base if base.endswith("/") else base + "/"
        self.limits = GatherOptions(
            timeout=defaults.timeout if timeout is None else timeout, retries=0,
            max_bytes=defaults.max_bytes if max_bytes is None else max_bytes)
        self.proxies, self._fetch = fetch.Proxies(proxy), fetch.fetch_now

    def _get(self, endpoint, wnid):
        url = f"{self.base}{endpoint}?wnid={wnid}"
        got = self._fetch(url, self.limits, self.proxies(url))
        if got.status != "ok":
            flag = _API_FLAGS.get(got.status)
            raise GatherError(
                f"ImageNet API {url}: {got.reason} ({got.status}). "
                + (f"Raise {flag} for a slow or large mirror; " if flag else "")
                + "image-net.org no longer serves this API: pass --api BASE for a mirror, or "
                  "use --urls fall11_urls.txt --words words.txt")
        text = got.body.decode("utf-8", "replace")
        return [ln.strip() for ln in text.replace("\r", "").split("\n") if ln.strip()]

    def names(self, wnids):
        found = {}
        for wnid in wnids:
            lines = self._get("wordnet.synset.getwords", wnid)
            if lines:
                found[wnid] = folder_name(lines[0])
        return found

    def children(self, wnid):
        # The answer: the wnid itself on the first line, then one "-nXXXXXXXX" per child.
        return [ln.lstrip("-") for ln in self._get("wordnet.structure.hyponym", wnid)[1:]
                if WNID.match(ln.lstrip("-"))]

    def urls(self, wnid):
        return self._get("imagenet.synset.geturls", wnid)


def iter_api(api, plan):
    """Items for each planned synset, from the API's URL list (no ids: names come from URLs)."""
    for wnid, folder in plan.items():
        for url in api.urls(wnid):
            yield Item(url, None, folder)
