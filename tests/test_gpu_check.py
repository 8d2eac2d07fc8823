"""benchmarks/gpu_check.sh --dry-run: every step of the GPU machine's run, on the CPU.

The GPU run happens only where a GPU machine is lent; this keeps its script from rotting: the
wheel install, the `-m gpu` selection, both speed benchmarks, ChainerMN under mpiexec, the
export and the summary all run here, small.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STEPS = ["install", "gpu-tests", "train-speed", "torch-peer", "data", "distributed", "export"]


@pytest.mark.slow
def test_the_gpu_check_runs_every_step_on_the_cpu(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "--disable-pip-version-check", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True, timeout=240)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("OUT", None)
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--dry-run",
                           "--python", sys.executable, "--wheels", str(wheels), "--out",
                           str(tmp_path / "out")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=400)
    out = tmp_path / "out"
    log = (out / "gpu_check.log").read_text()
    assert done.returncode == 0, done.stderr + log[-3000:]
    rows = [line.split("\t") for line in (out / "steps.tsv").read_text().splitlines()[1:]]
    assert [r[0] for r in rows] == STEPS
    failed = {name: code for name, code, _ in rows if code != "0"}
    assert failed == {}, f"{failed}\n{log[-3000:]}"
    assert "deselected" in log and " failed" not in log.split("=== train-speed")[0]
    bench = json.loads((out / "bench.json").read_text())
    assert bench["device"] == "@numpy" and bench["rows"][0]["pipeline"] > 0
    summary = (out / "summary.md").read_text()
    assert summary == done.stdout and "| distributed | ok |" in summary
