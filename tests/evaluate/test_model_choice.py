"""mlimages.evaluate.model.model_path: which weights ``--model best|last|PATH`` means."""

import pytest

from mlimages.evaluate import EvalError
from mlimages.evaluate.model import model_path


def test_best_is_model_best_when_there_is_one(tmp_path):
    (tmp_path / "model.npz").write_bytes(b"")
    assert model_path(tmp_path, "best") == tmp_path / "model.npz"
    (tmp_path / "model_best.npz").write_bytes(b"")
    assert model_path(tmp_path, "best") == tmp_path / "model_best.npz"
    assert model_path(tmp_path, "last") == tmp_path / "model.npz"


def test_a_path_is_taken_as_given(tmp_path):
    other = tmp_path / "elsewhere" / "model_iter_40.npz"
    other.parent.mkdir()
    other.write_bytes(b"")
    assert model_path(tmp_path, str(other)) == other


def test_a_missing_path_names_it_and_the_choices(tmp_path):
    with pytest.raises(EvalError, match=r"--model .*nope\.npz: no such file.*best or last"):
        model_path(tmp_path, str(tmp_path / "nope.npz"))
