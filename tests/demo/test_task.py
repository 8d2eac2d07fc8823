"""The demo's task (mlimages/demo/task.py): generated photos and planted links, published."""

from test_site import get

from mlimages.demo.site import PLACEHOLDER_PATH, Site
from mlimages.demo.task import BROKEN, PARENT, DemoSize, make_task, publish


def test_publish_serves_the_photos_and_each_planted_kind(tmp_path):
    size = DemoSize(classes=2, per_class=2, holdout=1, image_size=(64, 48), epochs=1, batchsize=1,
                    lr=0.01, lr_decay=1.0)
    files = make_task(tmp_path, size)
    assert [len(names) for names in files.values()] == [2, 2]
    # The one planted duplicate that fits two classes of two photos: a's first photo, the
    # same bytes, in place of b's last.
    wnids = list(files)
    assert ((tmp_path / "served" / wnids[1] / files[wnids[1]][-1]).read_bytes()
            == (tmp_path / "served" / wnids[0] / files[wnids[0]][0]).read_bytes())
    assert len(list((tmp_path / "holdout").glob("*.jpg"))) == 2
    with Site() as site:
        publish(site, tmp_path, files)
        lines = (tmp_path / "urls.txt").read_text().splitlines()
        assert len(lines) == 4 + sum(count for *_, count in BROKEN)
        paths = [line.split("\t")[1].removeprefix(site.url()) for line in lines]
        status, _, good = get(site, paths[0])
        assert status == 200 and good[:2] == b"\xff\xd8"
        first = {route: next(p for p in paths if p.startswith(f"/{route}/"))
                 for route, *_ in BROKEN}
        assert get(site, first["dead"])[0] == 404 and get(site, first["gone"])[0] == 410
        assert get(site, first["moved"])[1]["Location"] == PLACEHOLDER_PATH
        assert get(site, first["html"])[2].startswith(b"<html>")
        assert 0 < len(get(site, first["cut"])[2]) < len(good)
    assert (tmp_path / "wordnet.is_a.txt").read_text().startswith(PARENT[0])
