"""What :func:`mlimages.audit.audit` takes, the thresholds of its flags, its error type.

The CLI reads the defaults from here. This module imports neither NumPy nor Pillow, but
importing it runs the package's ``__init__``, which does (``audit --help`` loads them; a real
run needs them anyway). Every threshold is compared with one number measured on the image's
working copy (:data:`WORK_SIZE`), and that number is written beside the flag in
``flags.csv``, so a flag can always be explained.
"""

import dataclasses

from mlimages.errors import MlimagesError

#: Each image is decoded once (JPEG draft mode) and sampled (nearest neighbour, squashed) to
#: WORK_SIZE x WORK_SIZE (``hashes.working_copy``); the dhash, entropy and sharpness are
#: taken on the grey of that sample.
WORK_SIZE = 128
#: The tiny grey copy (box averages of the grey sample) and the colour samples are PIXEL_SIZE
#: x PIXEL_SIZE; the "same pixels" hash is the SHA-1 of both, the colour measure is taken on
#: the colour samples.
PIXEL_SIZE = 16
#: dhash bits that may differ in a near-duplicate pair. Chosen by the study in
#: benchmarks/RESULTS.md ("the --near study"): most re-encoded, resized and mirrored copies
#: are within 4 bits, unrelated images never were.
DEFAULT_NEAR = 4
#: A near pair is confirmed only when the two 16x16 grey copies differ by at most this many
#: grey levels on average (straight or mirrored): periodic textures (stripes, checks) alias
#: to the same 9x8 dhash without looking alike; re-encoded, resized and mirrored copies
#: differ by about 1, unrelated images by about 50 (the study in benchmarks/RESULTS.md).
LOOK_TOLERANCE = 6.0
#: What each flag means; the number compared, and how (``value < threshold`` or ``>``).
FLAGS = {
    "too_small": "short side in pixels < --min-side",
    "extreme_aspect": "long side / short side > --max-aspect",
    "low_information": "entropy of the 256-bin grey histogram (bits) < --min-entropy",
    "blurry": "variance of the Laplacian of the 128x128 grey sample < --min-sharpness",
    "grayscale": "mean |R-G|+|G-B| of the 16x16 colour samples < --max-colour, in a set "
                 "whose other images are mostly colour",
}
#: The files --out gets (thumbnails go to THUMBS beside report.html).
OUTPUT_FILES = ("audit.json", "duplicates.csv", "flags.csv", "report.html")
THUMBS = "thumbs"


class AuditError(MlimagesError, ValueError):
    """The audit cannot run as asked (no input, a bad option, an --out that is a file)."""


@dataclasses.dataclass(frozen=True)
class AuditOptions:
    """Options of :func:`mlimages.audit.audit`; the names are those of the CLI flags.

    Attributes:
        root: folder the paths of list files are relative to (default: the list's folder).
        near: dhash bits within which two images are near duplicates (-1: no near search).
        ignore_mirrored: a left-right flipped copy is no near duplicate (by default it is:
            training flips images, so a flipped copy in val is seen in train).
        workers: decoding processes (default: every core).
        min_side, max_aspect, min_entropy, min_sharpness, max_colour: the flags' thresholds.
        mean: a mean image (``mean.png``) to show in the report.
        manifest: gather's ``manifest.jsonl``, whose status counts the report shows
            (default: one found in a tree given as input or its parent).
    """

    root: "str | None" = None
    near: int = DEFAULT_NEAR
    ignore_mirrored: bool = False
    workers: "int | None" = None
    min_side: int = 64
    max_aspect: float = 4.0
    min_entropy: float = 3.0
    min_sharpness: float = 40.0     # chosen by benchmarks/study_flags.py (RESULTS.md)
    max_colour: float = 3.0
    mean: "str | None" = None
    manifest: "str | None" = None

    def check(self):
        """Raise AuditError when a value is out of range."""
        if not -1 <= self.near <= 31:
            raise AuditError(f"--near must be in -1..31 (dhash bits; -1 turns the near search "
                             f"off), got {self.near}")
        if self.workers is not None and self.workers < 1:
            raise AuditError(f"--workers must be >= 1, got {self.workers}")
        if self.max_aspect < 1:
            raise AuditError(f"--max-aspect must be >= 1, got {self.max_aspect}")
