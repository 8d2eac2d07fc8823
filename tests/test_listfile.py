import pytest

from mlimages import listfile
from mlimages.listfile import Entry, ListFileError


def test_reads_spaces_backslashes_comments_and_blanks(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("# a comment\n\ncat/a b.jpg 0\ntabby\\51879196_5a4404873a.jpg 10\n"
                    "  dog/x.png\t1  \n", encoding="utf-8")
    assert listfile.read_list(path) == [
        Entry("cat/a b.jpg", 0), Entry("tabby/51879196_5a4404873a.jpg", 10), Entry("dog/x.png", 1)]


@pytest.mark.parametrize("line, what", [
    ("cat/a.jpg", "label is missing"),
    ("cat/a.jpg x", "not an integer"),
    ("cat/a.jpg -1", "negative label"),
])
def test_bad_line_names_file_and_line_number(tmp_path, line, what):
    path = tmp_path / "bad.txt"
    path.write_text(f"ok.jpg 0\n{line}\n")
    with pytest.raises(ListFileError) as info:
        listfile.read_list(path)
    assert f"{path}:2:" in str(info.value) and what in str(info.value)


def test_missing_list_file_is_a_list_error(tmp_path):
    with pytest.raises(ListFileError, match="cannot read list file"):
        listfile.read_list(tmp_path / "nope.txt")


def test_write_then_read_round_trip_and_append(tmp_path):
    path = tmp_path / "out" / "train.txt"
    listfile.write_list(path, [("a/1.jpg", 0), ("b/2 x.jpg", 1)])
    listfile.write_list(path, [Entry("c/3.jpg", 2)], append=True)
    assert listfile.read_list(path) == [Entry("a/1.jpg", 0), Entry("b/2 x.jpg", 1), Entry("c/3.jpg", 2)]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp")]


def test_non_utf8_names_survive_a_round_trip(tmp_path):
    name = b"caf\xe9.jpg".decode("utf-8", "surrogateescape")
    path = tmp_path / "train.txt"
    listfile.write_list(path, [(name, 3)])
    assert listfile.read_list(path) == [Entry(name, 3)]


def test_label_def_round_trip_and_errors(tmp_path):
    path = tmp_path / "label_def.txt"
    listfile.write_label_def(path, ["bird", "cat", "sea lion"])
    assert path.read_text() == "0 bird\n1 cat\n2 sea lion\n"
    assert listfile.read_label_def(path) == ["bird", "cat", "sea lion"]
    path.write_text("0 bird\n2 cat\n")
    with pytest.raises(ListFileError, match="out of order"):
        listfile.read_label_def(path)
    path.write_text("bird\n")
    with pytest.raises(ListFileError, match=":1:"):
        listfile.read_label_def(path)


# --- issue 12, item 5: the reader must not lose or invent entries -------------------------


def test_bom_list_keeps_its_first_entry_item5(tmp_path):
    path = tmp_path / "excel.txt"
    path.write_bytes(b"\xef\xbb\xbfcat/a.jpg 0\ndog/b.jpg 1\n")
    assert listfile.read_list(path) == [Entry("cat/a.jpg", 0), Entry("dog/b.jpg", 1)]
    defs = tmp_path / "label_def.txt"
    defs.write_bytes(b"\xef\xbb\xbf0 cat\n1 dog\n")
    assert listfile.read_label_def(defs) == ["cat", "dog"]


def test_hash_path_is_written_so_that_it_is_no_comment_item5(tmp_path):
    path = tmp_path / "train.txt"
    listfile.write_list(path, [("#tag/x.jpg", 0), (" lead/y.jpg", 1), ("ok/#z.jpg", 2)])
    assert path.read_text().splitlines() == ["./#tag/x.jpg 0", "./ lead/y.jpg 1", "ok/#z.jpg 2"]
    assert listfile.read_list(path) == [
        Entry("./#tag/x.jpg", 0), Entry("./ lead/y.jpg", 1), Entry("ok/#z.jpg", 2)]
    listfile.write_list(path, [("#more.jpg", 3)], append=True)
    assert listfile.read_list(path)[-1] == Entry("./#more.jpg", 3)


@pytest.mark.parametrize("name, what", [
    ("p.jpg 0\nq.jpg", "line break"),
    ("p.jpg\r", "line break"),
    ("a\\b.jpg", "backslash"),
    ("trailing.jpg ", "whitespace"),
])
def test_names_the_reader_would_misread_are_refused_item5(tmp_path, name, what):
    path = tmp_path / "train.txt"
    with pytest.raises(ListFileError) as info:
        listfile.write_list(path, [("good.jpg", 0), (f"cls/{name}", 1)])
    assert repr(f"cls/{name}") in str(info.value) and what in str(info.value)
    assert "rename" in str(info.value)
    assert isinstance(info.value, ValueError) and not path.exists()
    assert listfile.unlistable(f"cls/{name}") and listfile.unlistable("good.jpg") is None


def test_class_name_with_a_line_break_is_refused_item5(tmp_path):
    path = tmp_path / "label_def.txt"
    for name in ("a\nb", "a\rb", "a\u2028b"):  # read_label_def splits at all three
        with pytest.raises(ListFileError, match="line break"):
            listfile.write_label_def(path, ["ok", name])
    assert not path.exists()


# --- issue 12, item 19: lists made on another machine -------------------------------------


def test_rewrite_prefix_item19():
    entries = [Entry("/data/imgs/cat/a.jpg", 0), Entry("/data/imgs2/b.jpg", 1),
               Entry("/data/imgs", 2), Entry("rel/c.jpg", 3), Entry("/data/imgs/../x.jpg", 4)]
    assert listfile.rewrite_prefix(entries, "/data/imgs/", "/mnt/new") == [
        Entry("/mnt/new/cat/a.jpg", 0), Entry("/data/imgs2/b.jpg", 1), Entry("/mnt/new", 2),
        Entry("rel/c.jpg", 3), Entry("/mnt/new/../x.jpg", 4)]
    assert listfile.rewrite_prefix(entries[:1], "/data/imgs", "") == [Entry("cat/a.jpg", 0)]
    assert listfile.rewrite_prefix(entries[:1], "/data", "new/") == [Entry("new/imgs/cat/a.jpg", 0)]
    windows = [Entry("C:/Users/me/pics/cat/a.jpg", 0)]  # the reader turned \ into /
    assert listfile.rewrite_prefix(windows, "C:\\Users\\me\\pics", "/srv") == [
        Entry("/srv/cat/a.jpg", 0)]


def test_parse_prefix_rule_item19():
    assert listfile.parse_prefix_rule("/old/root=/new root") == ("/old/root", "/new root")
    assert listfile.parse_prefix_rule("C:\\data=") == ("C:\\data", "")
    for bad in ("/old", "=/new", ""):
        with pytest.raises(ListFileError, match="OLD=NEW"):
            listfile.parse_prefix_rule(bad)
