"""gather --merge: shard folders of one URL list -> one folder equal to an unsharded run."""

import json

import pytest

from mlimages.cli import main as cli_main
from mlimages.demo.site import Answer, image_bytes
from mlimages.gather import GatherError, GatherOptions, SourceOptions, gather
from mlimages.gather.merge import merge_shards
from test_gather import _comparable, assert_manifest_matches_folder, write_list

OPTS = GatherOptions(timeout=2.0, retries=0, parallel=4, decode_workers=1)


@pytest.fixture
def url_list(site, tmp_path):
    """16 URLs: good images of two sizes, a 404, a page, a truncated image."""
    urls = [site.add(f"/img/{i}.jpg", Answer(200, image_bytes(seed=i))) for i in range(12)]
    urls += [site.add("/missing.jpg", Answer(404)),
             site.add("/page.jpg", Answer(200, b"<html></html>")),
             site.add("/trunc.jpg", Answer(200, image_bytes((200, 150), seed=99)[:2000])),
             site.add("/img/png.jpg", Answer(200, image_bytes(fmt="PNG", seed=50)))]
    return write_list(tmp_path / "urls.txt", urls)


def _shards(url_list, tmp_path, n=2):
    outs = []
    for k in range(1, n + 1):
        out = tmp_path / f"shard{k}"
        gather(SourceOptions(urls=url_list, label="things", shard=(k, n)), out, OPTS)
        outs.append(out)
    return outs


def test_two_shards_merged_equal_one_unsharded_run(url_list, tmp_path, capsys):
    gather(SourceOptions(urls=url_list, label="things"), tmp_path / "whole", OPTS)
    shards = _shards(url_list, tmp_path)
    assert sum(len((s / "manifest.jsonl").read_text().splitlines()) for s in shards) == 16
    assert all((s / "manifest.jsonl").read_text() for s in shards), "a shard got no URL"

    code = cli_main(["gather", "--merge", *map(str, shards), "--out", str(tmp_path / "merged"),
                     "--urls", url_list, "--label", "things"])
    assert code == 0
    assert "none of the list missing" in capsys.readouterr().out
    assert _comparable(tmp_path / "merged") == _comparable(tmp_path / "whole")
    assert_manifest_matches_folder(tmp_path / "merged")
    merged = json.loads((tmp_path / "merged" / "summary.json").read_text())
    whole = json.loads((tmp_path / "whole" / "summary.json").read_text())
    assert merged["manifest"]["by_status"] == whole["manifest"]["by_status"]
    assert merged["manifest"]["urls"] == 16 == sum(s["urls"] for s in merged["shards"])
    # copied, not moved: the shards still hold their images
    assert all(p.is_file() for s in shards for p in (s / "things").iterdir())


def test_move_empties_the_shards(url_list, tmp_path):
    shards = _shards(url_list, tmp_path)
    result = merge_shards(shards, tmp_path / "merged", move=True)
    assert not any(p.is_file() for s in shards for p in (s / "things").iterdir())
    assert result.summary["manifest"]["by_status"]["ok"] == 13
    assert not result.summary["checked_against_list"]
    assert_manifest_matches_folder(tmp_path / "merged")


def test_a_missing_shard_is_an_error_naming_the_urls(url_list, tmp_path):
    shards = _shards(url_list, tmp_path)
    with pytest.raises(GatherError, match="in no shard's manifest.*run \\(or resume\\)"):
        merge_shards(shards[:1], tmp_path / "merged", SourceOptions(urls=url_list, label="things"))
    assert not (tmp_path / "merged" / "manifest.jsonl").exists()


def test_a_url_done_by_two_shards_is_an_error(url_list, tmp_path):
    shards = _shards(url_list, tmp_path)
    with pytest.raises(GatherError, match="gathered by two shards"):
        merge_shards([shards[0], shards[1], shards[0]], tmp_path / "merged")
    # a run of the whole list (1/1) overlaps the N=2 shards
    other = tmp_path / "other"
    gather(SourceOptions(urls=url_list, label="things", shard=(1, 1)), other, OPTS)
    with pytest.raises(GatherError, match="same --shard N"):
        merge_shards([shards[0], other], tmp_path / "merged2")


def test_same_file_name_in_two_shards_gets_the_url_hash(site, tmp_path):
    # An ImageNet list names files by id: two lists may reuse an id for different URLs.
    a = site.add("/a/x.jpg", Answer(200, image_bytes(seed=1)))
    b = site.add("/b/x.jpg", Answer(200, image_bytes(seed=2)))
    for name, url in (("s1", a), ("s2", b)):
        urls = tmp_path / f"{name}.txt"
        urls.write_text(f"n01000001_7\t{url}\n")
        gather(SourceOptions(urls=str(urls)), tmp_path / name, OPTS)
    shard_path = assert_manifest_matches_folder(tmp_path / "s1")[("n01000001", a)]["path"]
    assert shard_path == assert_manifest_matches_folder(tmp_path / "s2")[("n01000001", b)]["path"]
    merge_shards([tmp_path / "s1", tmp_path / "s2"], tmp_path / "merged")
    records = assert_manifest_matches_folder(tmp_path / "merged")
    assert records[("n01000001", a)]["path"] == shard_path
    assert records[("n01000001", b)]["path"].startswith(shard_path[:-4] + "_")
    assert (tmp_path / "merged" / records[("n01000001", b)]["path"]).read_bytes() == \
        (tmp_path / "s2" / shard_path).read_bytes()


def test_bad_inputs(url_list, tmp_path, capsys):
    with pytest.raises(GatherError, match="no manifest.jsonl"):
        merge_shards([tmp_path], tmp_path / "merged")
    shards = _shards(url_list, tmp_path)
    merge_shards(shards, tmp_path / "merged")
    with pytest.raises(GatherError, match="merge into a new, empty folder"):
        merge_shards(shards, tmp_path / "merged")
    with pytest.raises(GatherError, match="leave out --shard"):
        merge_shards(shards, tmp_path / "m3", SourceOptions(urls=url_list, shard=(1, 2)))
    (shards[0] / next(r["path"] for r in map(json.loads, (shards[0] / "manifest.jsonl")
                                             .read_text().splitlines()) if r["path"])).unlink()
    assert cli_main(["gather", "--merge", *map(str, shards), "--out", str(tmp_path / "m4")]) == 2
    assert "the file is missing" in capsys.readouterr().err
