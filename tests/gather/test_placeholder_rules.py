"""Placeholder rule lists are checked whole when loaded (issue 12, item 17): a rule that could
only fail (or never match) during the downloads is a one-line error at start-up naming the
file, the line and the form to write (mlimages/gather/placeholders.py)."""

from pathlib import Path

import pytest

from mlimages.cli import main as cli_main
from mlimages.demo.site import Answer, image_bytes
from mlimages.gather import GatherError
from mlimages.gather.placeholders import load_placeholders, parse_rules

DHASH = "00ff00ff00ff00ff"


@pytest.mark.parametrize("rule, problem", [
    (f"dhash {DHASH} 0", "aspect '0'"),                     # divided by at every download
    (f"dhash {DHASH} -1.5", "aspect '-1.5'"),
    (f"dhash {DHASH} nan", "aspect 'nan'"),
    (f"dhash {DHASH} inf my placeholder", "aspect 'inf'"),
    (f"dhash {DHASH}", "no aspect"),
    ("dhash 1" + DHASH + " 1.0", "16 hex digits"),          # 68 bits: never within 5 of a look
    ("dhash -ff 1.0", "16 hex digits"),
    ("sha1 -" + "a" * 39, "40 hex digits"),
    ("sha1 0x" + "a" * 38, "40 hex digits"),
    ("url photo_unavailable.png", "url-name"),              # a file name: never a final URL
    ("url-name en-us/photo_unavailable.png", "'/'"),        # never a URL's last segment
    ("md5 " + "a" * 32, "unknown kind 'md5'"),
    ("url-name", "no value"),
])
def test_malformed_rules_are_refused_with_file_line_and_form_item17(tmp_path, rule, problem):
    path = tmp_path / "rules.txt"
    path.write_text(f"# my rules\nsha1 {'b' * 40}\n\n{rule}  # the bad one\n")
    with pytest.raises(GatherError) as e:
        load_placeholders([path])
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:4: ")
    assert problem in message
    kind = rule.split()[0]
    form = {"dhash": "dhash HEX ASPECT", "sha1": "sha1 HEX", "url": "url URL",
            "url-name": "url-name NAME"}.get(kind, "one of url-name, url, sha1, dhash")
    assert form in message


def test_well_formed_rules_still_load_item17():
    rules = parse_rules(f"dhash {DHASH.upper()} 1.333 Flickr's\ndhash ff 0.5\n"
                        "url HTTPS://s.example/pw/gone.png\nurl-name Gone.PNG\n"
                        f"sha1 {'A' * 40} the detail is a comment\n", "f")
    assert rules.dhash == ((int(DHASH, 16), 1.333, "Flickr's"), (0xFF, 0.5, "ff"))
    assert rules.near((4000, 3000)) == [rules.dhash[0]]
    assert rules.sha1 == {"a" * 40} and rules.url_names == {"gone.png"}


def test_gather_with_a_zero_aspect_rule_stops_at_start_up_item17(site, tmp_path, capsys):
    url = site.add("/a.jpg", Answer(200, image_bytes()))
    (tmp_path / "u.txt").write_text(url + "\n")
    (tmp_path / "rules.txt").write_text(f"dhash {DHASH} 0\n")
    out = tmp_path / "out"
    assert cli_main(["gather", "--urls", str(tmp_path / "u.txt"), "--out", str(out), "--quiet",
                     "--placeholder", str(tmp_path / "rules.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{tmp_path / 'rules.txt'}:1:" in err
    assert not Path(out / "manifest.jsonl").exists() and site.hits["/a.jpg"] == 0
