"""Chainer imports and trains through mlimages._chainer on the installed NumPy."""

import subprocess
import sys

import numpy as np


def test_import_and_forward_backward_update():
    from mlimages._chainer import F, L, chainer
    assert chainer.__version__ == "7.8.1"
    rng = np.random.default_rng(0)
    model = L.Classifier(chainer.Sequential(
        L.Convolution2D(3, 4, 3), F.relu, L.Linear(None, 2)))
    optimizer = chainer.optimizers.MomentumSGD(lr=0.05)
    optimizer.setup(model)
    x = rng.standard_normal((8, 3, 8, 8)).astype(np.float32)
    t = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int32)
    losses = []
    for _ in range(20):
        optimizer.update(model, x, t)
        losses.append(float(model.loss.array))
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0]


def test_as_strided_uses_the_bridged_sctypes():
    from mlimages._chainer import F
    y = F.as_strided(np.arange(6, dtype=np.float32), (2, 2), (1, 1))  # strides in elements
    np.testing.assert_array_equal(y.array, [[0, 1], [1, 2]])


def test_plain_import_mlimages_does_not_import_chainer():
    code = "import sys, mlimages, mlimages.listfile; print('chainer' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_mlimages_compat_makes_a_plain_import_chainer_work():
    code = ("import mlimages.compat, chainer, numpy; "
            "print(chainer.links.Linear(2, 3)(numpy.ones((1, 2), numpy.float32)).shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(1, 3)"


def test_after_import_mlimages_a_plain_import_chainer_says_what_to_do():
    code = "import mlimages\ntry:\n    import chainer\nexcept Exception as e:\n    print(type(e).__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    needs = int(np.__version__.split(".")[0]) >= 2 or sys.version_info >= (3, 12)
    assert ("import mlimages.compat" in out.stderr) == needs, out.stderr


def test_with_the_bridge_first_there_is_no_hint():
    code = "import mlimages.compat, chainer"
    out = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "mlimages.compat" not in out.stderr, out.stderr
