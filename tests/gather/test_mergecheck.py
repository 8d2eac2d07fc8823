"""gather --merge with --limit (trim_to_limit), merging again into a merged folder, shards
under the merged folder: no MPI needed."""

import pytest

from mlimages.demo.site import Answer, image_bytes
from mlimages.gather import GatherError, GatherOptions, SourceOptions, gather
from mlimages.gather.merge import merge_shards
from mlimages.gather.outdir import record_key
from test_gather import assert_manifest_matches_folder, kept_files

OPTS = GatherOptions(timeout=2.0, retries=0, decode_workers=1)


@pytest.fixture
def shards(site, tmp_path):
    """Two shard folders of one CSV list: 8 cats, 8 dogs, one 404 cat."""
    rows = ["url,label"]
    for label in ("cats", "dogs"):
        rows += [site.add(f"/{label}/{i}.jpg", Answer(200, image_bytes(seed=i))) + f",{label}"
                 for i in range(8)]
    rows.append(site.add("/cats/gone.jpg", Answer(404)) + ",cats")
    (tmp_path / "urls.csv").write_text("\n".join(rows) + "\n")
    outs = [tmp_path / f"s{k}" for k in (1, 2)]
    for k, out in enumerate(outs, 1):
        gather(SourceOptions(urls=str(tmp_path / "urls.csv"), shard=(k, 2)), out, OPTS)
    return outs


def test_limit_keeps_the_smallest_hashes_whatever_the_shards(shards, tmp_path):
    result = merge_shards(shards, tmp_path / "m", limit=3)
    records = assert_manifest_matches_folder(tmp_path / "m")
    assert result.summary["over_limit"] == 10
    for label in ("cats", "dogs"):
        urls = sorted((url for lab, url in records if lab == label and
                       records[lab, url]["status"] in ("ok", "over_limit")),
                      key=lambda url: record_key(label, url))
        assert [records[label, u]["status"] for u in urls] == ["ok"] * 3 + ["over_limit"] * 5
        assert all(records[label, u]["path"] is None for u in urls[3:])
    assert records["cats", next(u for _, u in records if u.endswith("gone.jpg"))][
        "status"] == "http_404"
    # the same shards in the other order: the same choice
    merge_shards(shards[::-1], tmp_path / "m2", limit=3)
    assert kept_files(tmp_path / "m2") == kept_files(tmp_path / "m")


def test_merging_again_replaces_the_manifest_and_removes_what_it_no_longer_keeps(
        shards, tmp_path):
    out = tmp_path / "m"
    merge_shards(shards, out, link=True)
    assert len(kept_files(out)) == 16
    with pytest.raises(GatherError, match="merge into a new, empty folder"):
        merge_shards(shards, out)
    merge_shards(shards, out, link=True, again=True, limit=2)
    assert len(kept_files(out)) == 4  # the 12 images over the limit are gone
    assert_manifest_matches_folder(out)
    assert all(p.is_file() for s in shards for p in (s / "cats").iterdir())  # shards keep theirs


def test_a_label_that_would_land_in_a_shard_folder_is_refused(site, tmp_path):
    out = tmp_path / "m"
    urls = tmp_path / "urls.txt"
    urls.write_text(site.add("/a.jpg", Answer(200, image_bytes(seed=1))) + "\n")
    gather(SourceOptions(urls=str(urls), label="part"), out / "part", OPTS)
    with pytest.raises(GatherError, match="would put images in the shard folders"):
        merge_shards([out / "part"], out)
