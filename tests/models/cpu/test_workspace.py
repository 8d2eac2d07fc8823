"""mlimages.models.cpu.workspace: scratch arrays reused by purpose, shape and dtype."""

import numpy as np

from mlimages.models.cpu import workspace


def test_a_given_back_array_is_reused_only_for_the_same_purpose_shape_and_dtype():
    workspace.clear()
    a = workspace.take("test", (3, 4), np.float32)
    workspace.give("test", a)
    assert workspace.take("test", (3, 5), np.float32) is not a
    assert workspace.take("test", (3, 4), np.float64) is not a
    assert workspace.take("other", (3, 4), np.float32) is not a
    assert workspace.take("test", (3, 4), np.float32) is a
    assert workspace.take("test", (3, 4), np.float32) is not a   # taken: not handed twice
    workspace.clear()


def test_zero_purposes_start_zeroed_and_at_most_keep_buffers_are_kept():
    workspace.clear()
    assert not workspace.take("zero-test", (5,), np.float32).any()
    arrays = [np.empty(2) for _ in range(workspace.KEEP + 2)]
    for a in arrays:
        workspace.give("test", a)
    taken = [workspace.take("test", (2,), np.float64) for _ in range(len(arrays))]
    assert sum(any(t is a for a in arrays) for t in taken) == workspace.KEEP
    workspace.clear()
