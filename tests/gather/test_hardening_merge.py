"""Issue 12, item 6: ``gather --merge --move`` moves all or nothing, and its advice works."""

import json
from pathlib import Path

import pytest

from mlimages.cli import main as cli_main
from mlimages.gather import GatherError, SourceOptions, gather
from mlimages.gather.merge import merge_shards
from test_gather import assert_manifest_matches_folder, kept_files, manifest_lines
from test_gather_merge import OPTS, _shards, url_list  # noqa: F401 (a fixture)


def every_file(folders):
    """{path: bytes} of every file under ``folders`` (the shards' images and manifests)."""
    return {p: p.read_bytes() for f in folders for p in Path(f).rglob("*") if p.is_file()}


def test_merge_move_with_a_missing_file_moves_nothing_and_its_advice_works_item6(
        url_list, tmp_path, capsys):
    shards = _shards(url_list, tmp_path)
    assert all(kept_files(s) for s in shards), "each shard should keep images"
    lost = next(r for r in manifest_lines(shards[1]) if r["status"] == "ok")
    (shards[1] / lost["path"]).unlink()
    before = every_file(shards)
    merged = tmp_path / "merged"
    argv = ["gather", "--merge", *map(str, shards), "--out", str(merged), "--move"]

    assert cli_main(argv) == 2
    assert every_file(shards) == before, "a shard file was moved although the merge failed"
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and str(shards[1] / lost["path"]) in err, err
    assert "nothing was copied or moved" in err
    assert not (merged / "manifest.jsonl").exists()

    # The advice: delete the URL's lines from that shard's manifest and run its gather again.
    manifest = shards[1] / "manifest.jsonl"
    manifest.write_text("".join(line + "\n" for line in manifest.read_text().splitlines()
                                if json.loads(line)["url"] != lost["url"]))
    gather(SourceOptions(urls=url_list, label="things", shard=(2, 2)), shards[1], OPTS)
    assert (shards[1] / lost["path"]).is_file()

    assert cli_main(argv) == 0, capsys.readouterr().err
    assert not any(kept_files(s) for s in shards), "--move leaves no image in the shards"
    records = assert_manifest_matches_folder(merged)
    assert sum(r["status"] == "ok" for r in records.values()) == 13


def test_merge_move_leaves_the_shards_whole_when_a_write_fails_item6(url_list, tmp_path):
    shards = _shards(url_list, tmp_path)
    before = every_file(shards)
    merged = tmp_path / "merged"
    # "things" taken by a file in the merged folder: the first image cannot be placed
    merged.mkdir()
    (merged / "things").write_text("in the way")
    with pytest.raises(GatherError, match="things"):
        merge_shards(shards, merged, move=True)
    assert every_file(shards) == before
    (merged / "things").unlink()  # fixed: the same merge into the same folder now works
    merge_shards(shards, merged, move=True)
    assert not any(kept_files(s) for s in shards)
    assert len(kept_files(merged)) == 13
    assert_manifest_matches_folder(merged)


def test_a_shard_file_that_is_a_link_is_not_merged_item6(url_list, tmp_path):
    shards = _shards(url_list, tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not an image of the shard")
    victim = shards[0] / next(r["path"] for r in manifest_lines(shards[0]) if r["path"])
    victim.unlink()
    victim.symlink_to(secret)
    for move in (False, True):
        with pytest.raises(GatherError, match="symbolic link"):
            merge_shards(shards, tmp_path / f"merged{move}", move=move)
    assert victim.is_symlink() and secret.read_bytes() == b"not an image of the shard"
