"""mlimages.models.cpu.workspace: scratch arrays reused by purpose, shape and dtype, within a
memory limit."""

import numpy as np

from mlimages.models.cpu import workspace


def test_a_given_back_array_is_reused_only_for_the_same_purpose_shape_and_dtype():
    workspace.clear()
    a = workspace.take("test", (3, 4), np.float32)
    workspace.give("test", a)
    assert workspace.kept_bytes() == a.nbytes
    assert workspace.take("test", (3, 5), np.float32) is not a
    assert workspace.take("test", (3, 4), np.float64) is not a
    assert workspace.take("other", (3, 4), np.float32) is not a
    assert workspace.take("test", (3, 4), np.float32) is a
    assert workspace.take("test", (3, 4), np.float32) is not a   # taken: not handed twice
    assert workspace.kept_bytes() == 0


def test_zero_purposes_start_zeroed():
    workspace.clear()
    assert not workspace.take("zero-test", (5,), np.float32).any()


def test_past_the_limit_the_oldest_buffers_are_dropped(monkeypatch):
    workspace.clear()
    monkeypatch.setattr(workspace, "LIMIT_BYTES", 3 * 800)
    arrays = [np.empty(100) for _ in range(4)]    # 800 bytes each
    for i, a in enumerate(arrays):
        workspace.give(f"test{i}", a)
    assert workspace.kept_bytes() == 3 * 800
    assert workspace.take("test0", (100,), np.float64) is not arrays[0]   # dropped
    assert [workspace.take(f"test{i}", (100,), np.float64) is arrays[i]
            for i in (1, 2, 3)] == [True, True, True]
    workspace.give("big", np.empty(1000))   # larger than the limit: never kept
    assert workspace.kept_bytes() == 0
    workspace.clear()

