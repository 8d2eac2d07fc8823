"""CSV lists a careless user or an attacker hands to gather (mlimages/gather/sources.py):
oversized fields, unbalanced quotes, stray bytes (issue 12, item 10), and Excel's CSV UTF-8
with its byte-order mark, header rows in any order, named or numbered columns (item 20)."""

import json
import logging
import tracemalloc

import pytest

from mlimages.cli import build_parser
from mlimages.cli import main as cli_main
from mlimages.cli.gather import source_options
from mlimages.demo.site import Answer, image_bytes
from mlimages.gather import GatherError
from mlimages.gather.lines import MAX_LINE_BYTES
from mlimages.gather.sources import SourceOptions, open_source

BOM = b"\xef\xbb\xbf"


def write_csv(path, lines, bom=False):
    """Write ``lines`` (str) as a CSV with CRLF endings, as Excel does; returns the path."""
    path.write_bytes((BOM if bom else b"") + "".join(f"{x}\r\n" for x in lines).encode())
    return str(path)


def read(path, **options):
    """(url, id, label) of every item of the CSV at ``path``, and the Source's stats."""
    source = open_source(SourceOptions(urls=path, **options))
    return [(i.url, i.id, i.label) for i in source], source.stats


# ------------------------------------------------------------------ item 10: bad rows
def test_a_200kib_field_is_one_bad_line_among_good_rows_item10(tmp_path):
    path = write_csv(tmp_path / "u.csv", ["url,label", "http://a/1.jpg,dog",
                                          "http://a/" + "x" * 200 * 1024 + ".jpg,dog",
                                          "http://a/2.jpg,cat"])
    items, stats = read(path)
    assert items == [("http://a/1.jpg", None, "dog"), ("http://a/2.jpg", None, "cat")]
    assert stats.bad_lines == 1 and stats.lines == 3
    assert stats.bad_examples[0].startswith(f"{path}:3: ")
    assert f"longer than {MAX_LINE_BYTES} bytes" in stats.bad_examples[0]


def test_a_huge_line_without_newline_is_read_in_bounded_memory_item10(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(b"http://a/1.jpg,dog\n" + b"y" * 20_000_000)
    tracemalloc.start()
    items, stats = read(str(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert items == [("http://a/1.jpg", None, "dog")] and stats.bad_lines == 1
    assert peak < 2_000_000


def test_an_unbalanced_quote_is_one_bad_line_and_the_next_rows_are_kept_item10(tmp_path):
    path = write_csv(tmp_path / "u.csv", ["url,label", '"http://a/1.jpg,dog',
                                          "http://a/2.jpg,cat", '"http://a/3,4.jpg",cat',
                                          '"http://a/5.jpg"junk,cat', "http://a/6.jpg,cat"])
    items, stats = read(path)
    assert [u for u, _, _ in items] == ["http://a/2.jpg", "http://a/3,4.jpg", "http://a/6.jpg"]
    assert stats.bad_lines == 2
    assert [e.split(": ")[0] for e in stats.bad_examples] == [f"{path}:2", f"{path}:5"]


def test_a_bare_cr_is_a_bad_line_not_a_traceback_item10(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(b"http://a/1.jpg,dog\nhttp://a/2\r.jpg,x\nhttp://a/3.jpg,cat\n")
    items, stats = read(str(path))
    assert [u for u, _, _ in items] == ["http://a/1.jpg", "http://a/3.jpg"]
    assert stats.bad_lines == 1 and "new-line character" in stats.bad_examples[0]


def test_gather_counts_bad_csv_rows_in_its_summary_item10(site, tmp_path, capsys):
    good = [site.add(f"/{i}.jpg", Answer(200, image_bytes(seed=i))) for i in range(2)]
    path = write_csv(tmp_path / "u.csv", ["url,label", f"{good[0]},dog",
                                          '"http://a/' + "z" * 200_000 + '",dog',
                                          f'"{good[1]},cat', f"{good[1]},cat"])
    out = tmp_path / "out"
    assert cli_main(["gather", "--urls", path, "--out", str(out), "--quiet",
                     "--timeout", "2"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bad_lines"] == 2 and summary["this_run"]["by_status"] == {"ok": 2}
    assert sorted(p.parent.name for p in out.rglob("*.jpg")) == ["cat", "dog"]
    assert "2 list lines could not be read" in capsys.readouterr().out


# ------------------------------------------------------------ item 20: Excel, headers
@pytest.mark.parametrize("header, row", [
    ("label,url", "{label},{url}"),
    ("url,label", "{url},{label}"),
    ("Image URL,Class", "{url},{label}"),
    ("id,image_url,class", "x{n},{url},{label}"),
    ("Category,link,Name", "{label},{url},other"),   # the first label name wins: category
])
def test_excel_csv_with_a_bom_and_a_header_in_any_order_item20(tmp_path, header, row):
    rows = [row.format(url=f"http://a/{n}.jpg", label=lab, n=n)
            for n, lab in enumerate(["dog", "cat"])]
    items, stats = read(write_csv(tmp_path / "u.csv", [header] + rows, bom=True))
    assert [(u, lab) for u, _, lab in items] == [("http://a/0.jpg", "dog"),
                                                 ("http://a/1.jpg", "cat")]
    assert stats.bad_lines == 0 and stats.lines == 2
    if header.startswith("id"):
        assert [i for _, i, _ in items] == ["x0", "x1"]


def test_explicit_columns_by_name_or_index_item20(tmp_path):
    path = write_csv(tmp_path / "u.csv", ["breed,photo,name", "dog,http://a/1.jpg,rex"],
                     bom=True)
    assert read(path, url_column="photo", label_column="breed")[0] == [
        ("http://a/1.jpg", None, "dog")]
    assert read(path, url_column="1", label_column=0)[0] == [("http://a/1.jpg", None, "dog")]
    assert read(path, url_column="PHOTO")[0] == [("http://a/1.jpg", None, "rex")]
    headerless = write_csv(tmp_path / "h.csv", ["dog,http://a/1.jpg", "cat,http://a/2.jpg"])
    assert read(headerless, url_column="1", label_column="0")[0] == [
        ("http://a/1.jpg", None, "dog"), ("http://a/2.jpg", None, "cat")]


def test_columns_that_cannot_be_found_fail_at_start_up_item20(tmp_path):
    path = write_csv(tmp_path / "u.csv", ["breed,photo", "dog,http://a/1.jpg"])
    with pytest.raises(GatherError, match=r"u\.csv.*--url-column photos.*breed, photo"):
        open_source(SourceOptions(urls=path, url_column="photos"))
    with pytest.raises(GatherError, match=r"--label-column 7.*2 columns"):
        open_source(SourceOptions(urls=path, label_column="7"))
    named = write_csv(tmp_path / "n.csv", ["label,picture", "dog,http://a/1.jpg"])
    with pytest.raises(GatherError, match=r"n\.csv.*no URL column.*--url-column"):
        open_source(SourceOptions(urls=named))


def test_headerless_csv_works_as_before_item20(tmp_path):
    path = write_csv(tmp_path / "u.csv", ["http://a/1.jpg,dog", "http://a/2.jpg,cat/../x"],
                     bom=True)
    items, stats = read(path)
    assert items == [("http://a/1.jpg", None, "dog"), ("http://a/2.jpg", None, "cat/x")]
    assert stats.lines == 2 and stats.bad_lines == 0


def test_a_missing_label_column_is_warned_about_once_item20(tmp_path, caplog):
    path = write_csv(tmp_path / "u.csv", ["URL", "http://a/1.jpg", "http://a/2.jpg"], bom=True)
    with caplog.at_level(logging.WARNING, logger="mlimages.gather"):
        items, _ = read(path, label="misc")
    assert items == [("http://a/1.jpg", None, "misc"), ("http://a/2.jpg", None, "misc")]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "no label column" in warnings[0].getMessage()
    assert "--label-column" in warnings[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mlimages.gather"):
        read(write_csv(tmp_path / "l.csv", ["url,label", "http://a/1.jpg,dog"]))
    assert not caplog.records


def test_cli_column_flags_reach_the_source_options_item20(tmp_path):
    parser = build_parser("gather")
    args = parser.parse_args(["gather", "--urls", "u.csv", "--out", "o"])
    assert (source_options(args).url_column, source_options(args).label_column) == (None, None)
    args = parser.parse_args(["gather", "--urls", "u.csv", "--out", "o",
                              "--url-column", "photo", "--label-column", "0"])
    assert (source_options(args).url_column, source_options(args).label_column) == ("photo", "0")


def test_column_flags_on_a_list_that_is_no_csv_are_refused_item20(tmp_path):
    (tmp_path / "u.txt").write_text("http://a/1.jpg\n")
    with pytest.raises(GatherError, match=r"--url-column.*CSV.*--format csv"):
        open_source(SourceOptions(urls=str(tmp_path / "u.txt"), url_column="url"))


def test_every_list_format_drops_a_bom_and_skips_overlong_lines_item10_item20(tmp_path):
    long = b"http://a/" + b"x" * 200_000 + b".jpg"
    (tmp_path / "plain.txt").write_bytes(BOM + b"http://a/1.jpg\n" + long + b"\nhttp://a/2.jpg\n")
    items, stats = read(str(tmp_path / "plain.txt"), label="x")
    assert [u for u, _, _ in items] == ["http://a/1.jpg", "http://a/2.jpg"]
    assert (stats.lines, stats.bad_lines) == (3, 1)
    (tmp_path / "in.txt").write_bytes(BOM + b"n02121808_1\thttp://a/1.jpg\nn02121808_2\t" + long)
    items, stats = read(str(tmp_path / "in.txt"), wnid=("n02121808",))
    assert items == [("http://a/1.jpg", "n02121808_1", "n02121808")] and stats.bad_lines == 1
