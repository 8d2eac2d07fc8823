"""`mlimages train --gpu N` end to end, resumed, then evaluated: on the CPU and on GPU 0.

The GPU cases (``pytest -m gpu``) run on a GPU machine through `benchmarks/gpu_check.sh`;
there the model trained on the GPU is also evaluated on the CPU, and both must agree.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from devices import DEVICES, chainer_device
from trainutil import cli_args, small_dataset  # noqa: F401 (fixture)

MPIEXEC = Path(sys.executable).parent / "mpiexec"


def run(args):
    done = subprocess.run(args, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def evaluate(data, out, gpu, folder):
    run([sys.executable, "-m", "mlimages", "evaluate", str(out), data["val"], "--root",
         data["root"], "--gpu", str(gpu), "--out", str(folder)])
    return (json.loads((Path(folder) / "report.json").read_text()),
            np.load(Path(folder) / "probs.npy"))


@pytest.mark.parametrize("gpu", DEVICES)
def test_train_resume_and_evaluate_on_the_device(small_dataset, tmp_path, gpu):
    chainer_device(gpu)
    data, out = small_dataset, tmp_path / "run"
    run(cli_args(data, out, "--crop", "32", "--epoch", "1", "--gpu", str(gpu)))
    run([sys.executable, "-m", "mlimages", "train", "--resume", str(out), "--epoch", "2",
         "--quiet"])
    assert json.loads((out / "args.json").read_text())["options"]["gpu"] == gpu
    ends = [e["epoch"] for e in json.loads((out / "log").read_text())
            if "validation/main/accuracy" in e]
    assert ends == [1, 2], ends
    report, probs = evaluate(data, out, gpu, tmp_path / "eval")
    assert report["evaluated"] == 6 and probs.shape == (6, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    if gpu >= 0:
        on_cpu, cpu_probs = evaluate(data, out, -1, tmp_path / "eval-cpu")
        assert on_cpu["correct"] == report["correct"]
        np.testing.assert_allclose(probs, cpu_probs, atol=1e-4)


@pytest.mark.gpu
def test_distributed_training_on_one_gpu_uses_nccl(small_dataset, tmp_path):
    chainer_device(0)
    if not MPIEXEC.exists():
        pytest.skip(f"no {MPIEXEC}: pip install mpi4py mpich")
    out = tmp_path / "run"
    run([str(MPIEXEC), "-n", "1", *cli_args(small_dataset, out, "--crop", "32", "--epoch",
                                             "1", "--gpu", "0", "--distributed")])
    assert (out / "model.npz").is_file()
