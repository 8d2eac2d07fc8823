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
