"""mlimages/audit/page.py: report.html as a real browser shows it (headless Chromium)."""

import shutil
import sys
from pathlib import Path

import numpy
import pytest
from auditdata import planted_tree
from PIL import Image

from mlimages.audit import AuditOptions, audit

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from render_report import render  # noqa: E402


def _colours(png):
    pixels = numpy.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    return len(numpy.unique(pixels, axis=0))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_the_report_renders_with_its_thumbnails_in_chromium(tmp_path):
    planted_tree(tmp_path / "tree")
    out = tmp_path / "out"
    audit([tmp_path / "tree"], out, AuditOptions(workers=2), progress=False)
    shown = render(out / "report.html", tmp_path / "shown.png", height=900)
    assert Image.open(shown).size == (1200, 900)
    # The thumbnails (photo-like colour fields) load from thumbs/: without the folder the
    # same page is text and boxes, a few hundred colours at most.
    with_thumbs = _colours(shown)
    shutil.rmtree(out / "thumbs")
    without = _colours(render(out / "report.html", tmp_path / "bare.png", height=900))
    assert with_thumbs > 5000 > without
