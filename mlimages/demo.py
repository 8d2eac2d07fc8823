"""``mlimages demo``: the pipeline on a small generated dataset."""

from pathlib import Path

from mlimages import synth
from mlimages.label import LabelOptions, label_tree, summary_table


def _say(command):
    print(f"\n$ {command}")


def run_demo(out="demo-output", quick=False):
    """Generate a small class-per-folder tree and label it; returns exit status 0."""
    out = Path(out)
    images, lists = out / "images", out / "lists"
    per_class = 8 if quick else 40
    print(f"making {3 * per_class} generated images in {images}/ ...")
    synth.make_tree(images, classes=3, per_class=per_class, seed=1)
    _say(f"mlimages label {images} --out {lists} --val 0.25 --seed 1 --verify")
    result = label_tree(images, lists, LabelOptions(val=0.25, seed=1, verify=True))
    print(summary_table(result))
    print(f"\nlists in {lists}/: " + ", ".join(p.name for p in result.written))
    return 0
