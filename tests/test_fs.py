"""Atomic writes (mlimages/_fs.py)."""

import os
import stat

import pytest

from mlimages._fs import atomic_write_bytes, atomic_write_text


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_the_file_gets_the_umask_permissions_not_mkstemps_0600(tmp_path, umask_027):
    path = atomic_write_text(tmp_path / "lists" / "train.txt", "a.jpg 0\n")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert path.read_text() == "a.jpg 0\n"


def test_replacing_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "mean.npy"
    atomic_write_bytes(target, b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["mean.npy"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "summary.json"
    atomic_write_text(target, "{}")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # fails inside the write
    assert target.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_blocking_file_names_what_stops_a_folder(tmp_path):
    from mlimages._fs import blocking_file
    assert blocking_file(tmp_path) is None                        # a folder
    assert blocking_file(tmp_path / "new" / "deeper") is None     # can be made
    (tmp_path / "f").write_text("x")
    assert blocking_file(tmp_path / "f") == tmp_path / "f"        # a file itself
    assert blocking_file(tmp_path / "f" / "sub" / "x") == tmp_path / "f"   # a file above it


def test_pool_context_never_forks():
    from mlimages._fs import pool_context
    assert pool_context().get_start_method() in ("forkserver", "spawn")


def test_environment_sets_for_a_while_and_puts_back(monkeypatch):
    from mlimages._fs import environment
    monkeypatch.setenv("MLIMAGES_TEST_KEPT", "old")
    monkeypatch.delenv("MLIMAGES_TEST_NEW", raising=False)
    with pytest.raises(RuntimeError), \
            environment(MLIMAGES_TEST_KEPT="new", MLIMAGES_TEST_NEW="1"):
        assert os.environ["MLIMAGES_TEST_KEPT"] == "new"
        assert os.environ["MLIMAGES_TEST_NEW"] == "1"
        raise RuntimeError("left by an error")
    assert os.environ["MLIMAGES_TEST_KEPT"] == "old"
    assert "MLIMAGES_TEST_NEW" not in os.environ
