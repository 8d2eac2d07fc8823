"""``mlimages audit``: its flags (defaults from AuditOptions) and its run."""

from mlimages.cli._args import add_field, options_from

HELP = "find duplicates, train/val leaks and low-quality images; write report.html"

DESCRIPTION = """\
Give a class-per-folder tree, the list files of a split (train.txt,
val.txt, test.txt; paths relative to --root), or both. Each image is
decoded once. Duplicates: the same bytes (SHA-1), the same pixels, or
a look within --near bits of the 64-bit dhash (a left-right flipped
copy included). A duplicate group in two splits or two classes is a
leak. Flags: too small, extreme aspect, low information, blurry,
grayscale in a colour set (the measured value and the threshold are
in flags.csv). Writes OUT/audit.json, duplicates.csv, flags.csv and
report.html (thumbnails in OUT/thumbs/). Fix the split with
`mlimages label ... --group-duplicates` or `--drop-duplicates`."""


def add(p):
    """Add audit's arguments to the subparser ``p``."""
    from mlimages.audit.options import AuditOptions as A
    p.description = DESCRIPTION
    p.add_argument("sources", nargs="+", metavar="ROOT_OR_LIST",
                   help="class-per-folder tree or list file")
    p.add_argument("--out", default="audit", help="folder for the report (made if missing)")
    add_field(p, "--root", A, metavar="DIR",
              help="folder the list files' paths are relative to (default: the list's folder)")
    add_field(p, "--near", A, type=int, metavar="BITS",
              help="dhash bits within which two images are near duplicates (-1: off)")
    add_field(p, "--ignore-mirrored", A, action="store_true",
              help="a left-right flipped copy is no duplicate")
    add_field(p, "--workers", A, type=int, help="decoding processes (default: all cores)")
    add_field(p, "--min-side", A, type=int, metavar="PX", help="flag: short side below")
    add_field(p, "--max-aspect", A, type=float, metavar="R", help="flag: long/short above")
    add_field(p, "--min-entropy", A, type=float, metavar="BITS",
              help="flag: grey histogram entropy below (low information, near blank)")
    add_field(p, "--min-sharpness", A, type=float, metavar="V",
              help="flag: variance of the Laplacian below (blurry)")
    add_field(p, "--max-colour", A, type=float, metavar="C",
              help="flag: mean |R-G|+|G-B| below (grayscale, in a colour set)")
    add_field(p, "--mean", A, metavar="PNG", help="a mean image to show in the report")
    add_field(p, "--manifest", A, metavar="JSONL",
              help="gather's manifest.jsonl (default: found in or beside a tree given)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args):
    """Audit, write the report and print the summary."""
    from mlimages.audit import AuditOptions, audit
    from mlimages.audit.report import summary
    result = audit(args.sources, args.out, options_from(args, AuditOptions),
                   progress=not args.quiet)
    print(summary(result))
    print("wrote " + ", ".join(str(p) for p in result.written))
    return 0
