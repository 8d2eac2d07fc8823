"""gather's event loop runs with a rarer cyclic garbage collection, and leaves the collector as
it found it (gather is a library call: a notebook's settings are its own)."""

import gc

import pytest

from mlimages.demo.site import Answer, Site, image_bytes
from mlimages.gather import GC_THRESHOLD, GatherError, GatherOptions, SourceOptions, gather


class WatchedSite(Site):
    """The demo site, noting the collector's settings of this process at each request: the
    site runs in the test's process, so it sees what gather's loop runs under."""

    def __init__(self):
        super().__init__()
        self.settings = []

    def take(self, raw_path, auth=None):
        self.settings.append((gc.get_threshold(), gc.get_freeze_count()))
        return super().take(raw_path, auth)


def _gather(site, tmp_path, name):
    urls = [site.add(f"/{name}{i}.jpg", Answer(200, image_bytes(seed=i))) for i in range(3)]
    urls.append(site.add(f"/{name}-missing.jpg", Answer(404)))
    listing = tmp_path / f"{name}.txt"
    listing.write_text("".join(u + "\n" for u in urls))
    opts = GatherOptions(timeout=5.0, retries=0, parallel=4)
    return gather(SourceOptions(urls=listing), tmp_path / name, opts)


@pytest.fixture
def collector():
    """The collector's settings before the test, put back after it whatever happened."""
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)
    gc.unfreeze()


def test_the_loop_collects_rarely_and_the_settings_come_back(collector, tmp_path):
    with WatchedSite() as site:
        result = _gather(site, tmp_path, "a")
    assert result.summary["this_run"]["ok"] == 3
    assert len(site.settings) == 4
    for threshold, frozen in site.settings:
        assert threshold == (GC_THRESHOLD, *collector[1:])
        assert frozen > 0  # what existed when the loop started: modules, settings
    assert gc.get_threshold() == collector
    assert gc.get_freeze_count() == 0


def test_objects_the_caller_froze_stay_frozen(collector, tmp_path):
    mine = [object()]
    gc.freeze()
    assert not _tracked(mine)
    with WatchedSite() as site:
        _gather(site, tmp_path, "b")
    assert not _tracked(mine)  # still in the permanent generation
    assert gc.get_threshold() == collector


def _tracked(obj):
    """True if ``obj`` is in one of the collector's generations (frozen objects are not)."""
    return any(o is obj for o in gc.get_objects())


def test_a_collector_the_caller_switched_off_stays_off(collector, tmp_path):
    gc.set_threshold(0)
    with WatchedSite() as site:
        _gather(site, tmp_path, "c")
    assert {threshold[0] for threshold, _ in site.settings} == {0}
    assert gc.get_threshold()[0] == 0


def test_the_settings_come_back_when_the_run_fails(collector, tmp_path):
    out, elsewhere = tmp_path / "d", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "things").symlink_to(elsewhere, target_is_directory=True)  # the run stops on it
    with WatchedSite() as site:
        url = site.add("/a.jpg", Answer(200, image_bytes()))
        (tmp_path / "d.txt").write_text(url + "\n")
        with pytest.raises(GatherError, match="symbolic link"):
            gather(SourceOptions(urls=tmp_path / "d.txt", label="things"), out,
                   GatherOptions(timeout=5.0, retries=0))
    assert site.settings and site.settings[0][0][0] == GC_THRESHOLD  # it failed in the loop
    assert gc.get_threshold() == collector
    assert gc.get_freeze_count() == 0
