"""``mlimages pretrained list|fetch NAME``: the known pretrained weights, and getting one.

Building the parser imports only :mod:`mlimages.pretrained.registry` (no NumPy).
"""

HELP = "pretrained weights by name: list them, or fetch one into the cache"

DESCRIPTION = """\
list: the known models: name, the --arch they fit, size, source and licence.
fetch NAME: download NAME into the cache folder ($MLIMAGES_HOME, default
~/.cache/mlimages; a partial download is resumed), check its sha1 and
convert it once to .npz; `train --init-model NAME` does the same itself.
Offline: download the file elsewhere, copy it to the path the error names,
or give `train --init-model /path/to/FILE.caffemodel`."""


def add(p):
    """Add the arguments of ``pretrained`` to the subparser ``p``."""
    from mlimages.pretrained.registry import MODELS
    p.description = DESCRIPTION
    p.add_argument("action", choices=("list", "fetch"))
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="for fetch: one of " + ", ".join(MODELS))


def format_list(models):
    """The lines of ``pretrained list`` for ``models`` (PretrainedModel values)."""
    lines = []
    for m in models:
        lines += [f"{m.name}  (--arch {m.arch}, {m.approx}, sha1 {m.sha1})",
                  f"    {m.note}", f"    url: {m.url}", f"    source: {m.source}",
                  f"    licence: {m.licence}"]
    return "\n".join(lines)


def run(args):
    """List the models, or fetch one and print where it is."""
    from mlimages.pretrained import registry
    if args.action == "list":
        print(format_list(registry.MODELS.values()))
        print(f"cache: {registry.home()} (${registry.HOME_ENV})")
        return 0
    if not args.name:
        raise registry.UnknownModel("pretrained fetch: give a NAME, one of "
                                    + ", ".join(registry.MODELS))
    from mlimages.pretrained.store import fetch
    got = fetch(args.name)
    how = ("downloaded, sha1 checked" if got.downloaded else "in the cache, sha1 checked"
           if got.converted else "in the cache, converted earlier")
    print(f"{got.model.name}: {how}: {got.file}")
    print(f"weights for --init-model {got.model.name} (--arch {got.model.arch}): "
          f"{got.weights}{' (converted now)' if got.converted else ''}")
    return 0
