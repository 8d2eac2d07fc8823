"""URL sources: ImageNet, plain and CSV lists, the ImageNet API (mlimages/gather/sources.py,
the synsets in mlimages/gather/imagenet.py)."""

import tracemalloc

import pytest

from mlimages.demo.site import Answer
from mlimages.gather import GatherError
from mlimages.gather.imagenet import plan_synsets
from mlimages.gather.sources import SourceOptions, in_shard, open_source

WORDS = ("n02121808\tdomestic cat, house cat, Felis domesticus\n"
         "n02123394\tPersian cat\n"
         "n02123159\ttiger cat\n"
         "n09999991\tcrane\n"
         "n09999992\tcrane\n")
IS_A = "n02121808 n02123394\nn02121808 n02123159\nn02123394 n09999991\nn02123159 n09999992\n"


def imagenet_files(tmp_path):
    lines = [b"n02121808_1\thttp://farm1.example/cat 1.jpg",             # a space in the URL
             b"n02123394_2\thttp://farm2.example/persian.jpg\twith\ttabs",
             b"n02123159_3\thttp://farm3.example/tiger.jpg",
             b"n09999991_4\thttp://farm4.example/crane-bird.jpg",
             b"n09999992_5\thttp://farm4.example/crane-machine.jpg",
             b"n01111111_6\thttp://elsewhere.example/other.jpg",
             b"garbage line without a tab",
             b"n02121808_7\t",
             b"n02121808_8\thttp://farm1.example/caf\xe9.jpg",              # Latin-1, not UTF-8
             b""]
    (tmp_path / "urls.txt").write_bytes(b"\r\n".join(lines))
    (tmp_path / "words.txt").write_text(WORDS)
    (tmp_path / "is_a.txt").write_text(IS_A)
    return {name: str(tmp_path / f"{name}.txt") for name in ("urls", "words", "is_a")}


def items_of(opts):
    source = open_source(opts)
    return list(source), source


def test_imagenet_list_one_synset_named_from_words(tmp_path):
    f = imagenet_files(tmp_path)
    items, source = items_of(SourceOptions(urls=f["urls"], wnid=("n02121808",), words=f["words"]))
    assert [(i.id, i.label) for i in items] == [("n02121808_1", "domestic_cat"),
                                                ("n02121808_8", "domestic_cat")]
    assert items[0].url == "http://farm1.example/cat 1.jpg"
    assert items[1].url == "http://farm1.example/caf%E9.jpg"  # the same bytes on the wire
    assert source.stats.bad_lines == 2 and source.stats.lines == 9
    assert "garbage" in source.stats.bad_examples[0]
    assert source.labels == ("domestic_cat",)


def test_subset_nests_hyponyms_and_names_twins_apart(tmp_path):
    f = imagenet_files(tmp_path)
    items, _ = items_of(SourceOptions(urls=f["urls"], wnid=("n02121808",), words=f["words"],
                                      is_a=f["is_a"], subset=True))
    labels = {i.id: i.label for i in items}
    assert labels["n02123394_2"] == "domestic_cat/persian_cat"
    assert labels["n02123159_3"] == "domestic_cat/tiger_cat"
    assert labels["n09999991_4"] == "domestic_cat/persian_cat/crane"  # alone in its folder
    assert "n01111111_6" not in labels
    flat, _ = items_of(SourceOptions(urls=f["urls"], wnid=("n02121808",), words=f["words"],
                                     is_a=f["is_a"], subset=True, flat=True))
    labels = {i.id: i.label for i in flat}
    assert labels["n02123394_2"] == "persian_cat"
    assert {labels["n09999991_4"], labels["n09999992_5"]} == {"crane_n09999991",
                                                              "crane_n09999992"}


def test_without_words_the_folder_is_the_wnid_and_several_wnids_work(tmp_path):
    f = imagenet_files(tmp_path)
    items, _ = items_of(SourceOptions(urls=f["urls"], wnid=("n02123159", "n01111111")))
    assert [i.label for i in items] == ["n02123159", "n01111111"]
    everything, _ = items_of(SourceOptions(urls=f["urls"], words=f["words"]))
    assert {i.label for i in everything} == {"domestic_cat", "persian_cat", "tiger_cat", "crane",
                                             "crane_n09999992", "n01111111"}


def test_plain_and_csv_lists(tmp_path):
    (tmp_path / "plain.txt").write_text("# comment\nhttp://a/1.jpg\n\n  http://a/2.jpg  \n")
    items, _ = items_of(SourceOptions(urls=str(tmp_path / "plain.txt"), label="my/../class"))
    assert [(i.url, i.label) for i in items] == [("http://a/1.jpg", "my/class"),
                                                 ("http://a/2.jpg", "my/class")]
    (tmp_path / "h.csv").write_text('id,Label,URL\nx1,dog,http://a/1.jpg\n,,\n'
                                    'x2,,"http://a/2,3.jpg"\nx3,cat,\n')
    items, source = items_of(SourceOptions(urls=str(tmp_path / "h.csv"), label="misc"))
    assert [(i.url, i.id, i.label) for i in items] == [("http://a/1.jpg", "x1", "dog"),
                                                       ("http://a/2,3.jpg", "x2", "misc")]
    assert source.stats.bad_lines == 1
    (tmp_path / "n.csv").write_text("http://a/1.jpg,../../evil\nhttp://a/2.jpg\n")
    items, _ = items_of(SourceOptions(urls=str(tmp_path / "n.csv")))
    assert [i.label for i in items] == ["evil", ""]


def test_format_detection_and_explicit_format(tmp_path):
    (tmp_path / "list.txt").write_text("\nid1\thttp://a/1.jpg\n")
    items, source = items_of(SourceOptions(urls=str(tmp_path / "list.txt")))
    assert items[0].id == "id1" and source.description.startswith("imagenet")
    items, _ = items_of(SourceOptions(urls=str(tmp_path / "list.txt"), format="plain"))
    assert items[0].url == "id1\thttp://a/1.jpg"  # taken as given: it will be a bad_url


def test_shards_split_a_list_exactly(tmp_path):
    urls = [f"http://a/{i}.jpg" for i in range(300)]
    (tmp_path / "u.txt").write_text("\n".join(urls))
    parts = [[i.url for i in items_of(SourceOptions(urls=str(tmp_path / "u.txt"),
                                                    shard=(k, 3)))[0]] for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == sorted(urls)
    assert all(60 < len(p) < 140 for p in parts)
    assert all(in_shard(u, (1, 3)) for u in parts[0])


def test_a_long_list_is_streamed(tmp_path):
    path = tmp_path / "big.txt"
    with open(path, "w") as f:
        for i in range(200_000):
            f.write(f"n{i % 97:08d}_{i}\thttp://farm{i % 9}.example/{i:09d}_abcdef.jpg\n")
    assert path.stat().st_size > 10_000_000
    tracemalloc.start()
    count = sum(1 for _ in open_source(SourceOptions(urls=str(path), wnid=("n00000005",))))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == len(range(5, 200_000, 97))
    assert peak < 2_000_000


def test_plan_synsets_takes_each_synset_once():
    children = {"a": ["b", "c"], "b": ["c", "a"], "c": []}
    plan = plan_synsets(["a", "c"], lambda w: children[w], lambda ws: {}, True, False)
    assert plan == {"a": "a", "c": "c", "b": "a/b"}


def test_bad_source_options_are_refused(tmp_path):
    (tmp_path / "u.txt").write_text("x\n")
    u = str(tmp_path / "u.txt")
    for opts, text in [(SourceOptions(), "--urls"),
                       (SourceOptions(urls=u, api="http://127.0.0.1:9/"), "either"),
                       (SourceOptions(urls=u, wnid=("cat",)), "8 digits"),
                       (SourceOptions(urls=u, wnid=("n02121808",), subset=True), "--is-a"),
                       (SourceOptions(urls=u, shard=(4, 3)), "between 1 and N"),
                       (SourceOptions(urls=str(tmp_path / "none.txt")), "no such file"),
                       (SourceOptions(api="http://127.0.0.1:9/"), "--wnid"),
                       (SourceOptions(urls=u, format="xml"), "format")]:
        with pytest.raises(GatherError, match=text):
            open_source(opts)


def test_imagenet_api_on_a_local_mirror(site):
    base = "/api/text/"
    site.add(base + "wordnet.synset.getwords?wnid=n02121808",
             Answer(200, b"domestic cat\nhouse cat\n"))
    site.add(base + "wordnet.synset.getwords?wnid=n02123394", Answer(200, b"Persian cat\n"))
    site.add(base + "wordnet.structure.hyponym?wnid=n02121808",
             Answer(200, b"n02121808\r\n-n02123394\r\n"))
    site.add(base + "wordnet.structure.hyponym?wnid=n02123394", Answer(200, b"n02123394\r\n"))
    site.add(base + "imagenet.synset.geturls?wnid=n02121808",
             Answer(200, b"http://a/1.jpg\r\nhttp://a/2.jpg\r\n"))
    site.add(base + "imagenet.synset.geturls?wnid=n02123394", Answer(200, b"http://b/3.jpg\n"))
    items, source = items_of(SourceOptions(api=site.url(base), wnid=("n02121808",), subset=True))
    assert [(i.url, i.label) for i in items] == [
        ("http://a/1.jpg", "domestic_cat"), ("http://a/2.jpg", "domestic_cat"),
        ("http://b/3.jpg", "domestic_cat/persian_cat")]
    with pytest.raises(GatherError, match="mirror"):
        open_source(SourceOptions(api=site.url("/nothing/"), wnid=("n02121808",)))
