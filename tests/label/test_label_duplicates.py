"""label --group-duplicates / --drop-duplicates (mlimages/label/dedup.py, split.py)."""

import random
import shutil
import sys
from pathlib import Path

import pytest

from mlimages import listfile
from mlimages.audit.groups import find_groups
from mlimages.audit.scan import scan_files
from mlimages.label import LabelOptions, label_tree, summary_table
from mlimages.label.split import split_class, split_units

sys.path.insert(0, str(Path(__file__).parents[1] / "audit"))
from auditdata import photo  # noqa: E402  (the audit tests' planted photos)


def _random_tree(root, seed):
    """2-3 classes of distinct photos, then copies (bytes, re-encoded, mirrored) of random
    images planted in random classes; returns the number of copies planted."""
    rng = random.Random(seed)
    classes = ["c0", "c1", "c2"][: rng.randint(2, 3)]
    files = []
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(rng.randint(6, 12)):
            path = root / name / f"{i}.jpg"
            photo(seed * 1000 + c * 100 + i).save(path, quality=90)
            files.append((path, seed * 1000 + c * 100 + i))
    copies = rng.randint(3, 8)
    for k in range(copies):
        src, s = rng.choice(files)
        dst = root / rng.choice(classes) / f"copy{k}.jpg"
        how = rng.choice(["bytes", "q40", "mirror"])
        if how == "bytes":
            shutil.copyfile(src, dst)
        elif how == "q40":
            photo(s).save(dst, quality=40)
        else:
            photo(s).transpose(0).save(dst, quality=90)
    return copies


def _split_of(out, root):
    where = {}
    for split in ("train", "val", "test"):
        if (out / f"{split}.txt").exists():
            for e in listfile.read_list(out / f"{split}.txt"):
                where[str(root / e.path)] = split
    return where


@pytest.mark.parametrize("seed", range(5))
def test_no_duplicate_group_straddles_splits_on_random_trees(tmp_path, seed):
    root, out = tmp_path / "tree", tmp_path / "lists"
    _random_tree(root, seed)
    rng = random.Random(seed)
    opts = LabelOptions(val=rng.choice([0.2, 0.3]), test=rng.choice([0.0, 0.2]), seed=seed,
                        group_duplicates=True, workers=2)
    result = label_tree(root, out, opts, progress=False)
    where = _split_of(out, root)
    paths = sorted(where)
    groups = find_groups(scan_files(paths, workers=2, progress=False), opts.near)
    assert groups and result.duplicate_groups == len(groups)
    for group in groups:
        assert len({where[paths[m.index]] for m in group}) == 1
    assert "each merged into one unit of the split" in summary_table(result)
    # Without the option the same trees do straddle (the check above can fail).
    if seed == 0:
        plain = label_tree(root, tmp_path / "plain", LabelOptions(val=0.5, seed=1),
                           progress=False)
        assert plain.duplicate_groups == 0
        where = _split_of(tmp_path / "plain", root)
        assert any(len({where[paths[m.index]] for m in g}) > 1 for g in groups)


def test_drop_duplicates_keeps_the_largest_and_names_it(tmp_path):
    root = tmp_path / "tree"
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        for i in range(4):
            photo(10 * (c == "b") + i).save(root / c / f"{i}.jpg", quality=90)
    photo(1, (640, 480)).save(root / "b" / "big_copy.jpg", quality=90)
    photo(1).save(root / "b" / "q40_copy.jpg", quality=40)
    result = label_tree(root, tmp_path / "out", LabelOptions(drop_duplicates=True, workers=1),
                        progress=False)
    assert sorted(result.rejects) == [("a/1.jpg", "duplicate_of b/big_copy.jpg"),
                                      ("b/q40_copy.jpg", "duplicate_of b/big_copy.jpg")]
    rejects = (tmp_path / "out" / "rejects.txt").read_text()
    assert "a/1.jpg\tduplicate_of b/big_copy.jpg\n" in rejects
    listed = {e.path for e in listfile.read_list(tmp_path / "out" / "train.txt")}
    assert "b/big_copy.jpg" in listed and "a/1.jpg" not in listed and len(listed) == 8


def test_units_of_one_file_split_as_split_class_does():
    files = [f"f{i}" for i in range(37)]
    a = split_class(files, 0.2, 0.1, random.Random(3))
    b = split_units([[f] for f in files], 0.2, 0.1, random.Random(3))
    assert a == b


def test_near_is_checked(tmp_path):
    from mlimages.label import LabelError
    (tmp_path / "a").mkdir()
    photo(0).save(tmp_path / "a" / "x.jpg")
    with pytest.raises(LabelError, match="--near"):
        label_tree(tmp_path, tmp_path / "o", LabelOptions(near=64), progress=False)
