"""Issue 12: nothing outside --out is written through a planted link (item 7), outputs of the
wrong kind are one-line errors before any download (item 13), manifest lines of the wrong
types are read as torn lines (item 15)."""

import json

import pytest

from mlimages.cli import main as cli_main
from mlimages.demo.site import Answer, image_bytes
from mlimages.gather import GatherError, GatherOptions, SourceOptions, gather
from mlimages.gather.merge import merge_shards
from mlimages.gather.outdir import OutDir
from test_gather import FAST, assert_manifest_matches_folder, read_manifest, write_list


@pytest.fixture
def outside(tmp_path):
    """A file and a folder outside --out, and a snapshot of everything in them."""
    place = tmp_path / "outside"
    (place / "dir").mkdir(parents=True)
    (place / "file").write_bytes(b"precious\nlast line without newline")

    def snapshot():
        return {p.relative_to(place).as_posix(): p.read_bytes() if p.is_file() else None
                for p in sorted(place.rglob("*"))}
    before = snapshot()
    yield place
    assert snapshot() == before, "something outside --out was changed"


def one_url(site, tmp_path, name="a"):
    return write_list(tmp_path / f"{name}.txt",
                      [site.add(f"/{name}.jpg", Answer(200, image_bytes(seed=1)))])


def run(urls, out, label="things"):
    return gather(SourceOptions(urls=urls, label=label), out, GatherOptions(**FAST))


# ------------------------------------------------------------------ item 7: links in --out
@pytest.mark.parametrize("name, target", [(".gather.lock", "file"), ("manifest.jsonl", "file"),
                                          (".gather-tmp", "dir")])
def test_a_planted_link_among_gathers_own_files_is_refused_item7(site, tmp_path, outside,
                                                                   name, target):
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(outside / target)
    with pytest.raises(GatherError, match=f"{name}.*symbolic link.*remove it"):
        run(one_url(site, tmp_path), out)
    assert site.hits["/a.jpg"] == 0


@pytest.mark.parametrize("label, link", [("things", "things"), ("deep/things", "deep")])
def test_a_label_folder_that_is_a_link_receives_nothing_item7(site, tmp_path, outside, label,
                                                              link):
    out = tmp_path / "out"
    out.mkdir()
    (out / link).symlink_to(outside / "dir", target_is_directory=True)
    with pytest.raises(GatherError, match=f"{out / link}.*symbolic link"):
        run(one_url(site, tmp_path), out, label)
    # settled as the interrupted run it is: the next run (link removed) keeps the image
    assert not json.loads((out / "summary.json").read_text())["completed"]
    (out / link).unlink()
    run(one_url(site, tmp_path), out, label)
    assert read_manifest(out)[site.url("/a.jpg")]["status"] == "ok"
    assert_manifest_matches_folder(out)


def test_a_planted_log_link_is_refused_by_the_cli_item7(site, tmp_path, outside, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "gather.log").symlink_to(outside / "file")
    code = cli_main(["gather", "--urls", one_url(site, tmp_path), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "gather.log" in err and "symbolic link" in err


# ------------------------------------------------------------------ item 13: wrong kinds
def test_out_or_log_of_the_wrong_kind_is_a_one_line_error_item13(site, tmp_path, capsys):
    urls = one_url(site, tmp_path)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    cases = [(["--out", str(a_file)], a_file),
             (["--out", str(a_file / "sub")], a_file / "sub"),
             (["--out", str(tmp_path / "o1"), "--log", str(tmp_path)], tmp_path),
             (["--merge", str(tmp_path), "--out", str(a_file)], a_file)]
    for args, culprit in cases:
        code = cli_main(["gather", "--urls", urls, "--quiet", *args])
        err = capsys.readouterr().err
        assert code == 2 and len(err.splitlines()) == 1, (args, err)
        assert str(culprit) in err, (args, err)
    assert site.hits["/a.jpg"] == 0


@pytest.mark.parametrize("name, kind", [("manifest.jsonl", "dir"), ("summary.json", "dir"),
                                        (".gather.lock", "dir"), (".gather-tmp", "file"),
                                        ("gather.log", "dir")])
def test_gathers_own_file_of_the_wrong_kind_is_refused_before_any_download_item13(
        site, tmp_path, capsys, name, kind):
    out = tmp_path / "out"
    out.mkdir()
    if kind == "dir":
        (out / name).mkdir()
    else:
        (out / name).write_text("x")
    code = cli_main(["gather", "--urls", one_url(site, tmp_path), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    assert str(out / name) in err
    assert site.hits["/a.jpg"] == 0


def test_a_refused_folder_is_left_unlocked_item13(tmp_path):
    out = tmp_path / "out"
    (out / "summary.json").mkdir(parents=True)
    with pytest.raises(GatherError, match="summary.json"):
        with OutDir(out):
            pass
    (out / "summary.json").rmdir()
    with OutDir(out):  # the failed entry released its lock
        pass


# ------------------------------------------------------------------ item 15: typed lines
BAD_TYPES = [{"path": 5}, {"label": 5}, {"url": ["x"]}, {"status": None}, {"sha1": 7},
             {"bytes": "many"}]


@pytest.mark.parametrize("bad", BAD_TYPES, ids=lambda b: next(iter(b)))
def test_a_manifest_line_with_a_field_of_the_wrong_type_is_a_torn_line_item15(site, tmp_path,
                                                                              bad):
    out = tmp_path / "out"
    out.mkdir()
    line = {"url": "http://x/1.jpg", "id": None, "label": "things", "status": "ok",
            "reason": "", "bytes": 3, "path": "things/1.jpg", "sha1": "ab", "elapsed": 0.1}
    (out / "manifest.jsonl").write_text(json.dumps(line | bad) + "\n")
    result = run(one_url(site, tmp_path), out)
    assert result.summary["manifest"]["unreadable_lines"] == 1
    last = json.loads((out / "manifest.jsonl").read_text().splitlines()[-1])
    assert last["url"] == site.url("/a.jpg") and last["status"] == "ok"
    # --merge reads shard manifests with the same rule
    merged = merge_shards([out], tmp_path / "merged")
    assert merged.summary["manifest"]["urls"] == 1
