#!/usr/bin/env bash
# One prepared run on a GPU machine: install, GPU tests, training speed, the PyTorch peer,
# ChainerMN on NCCL, the ONNX export on onnxruntime's CUDA provider, one summary table.
#
#   make gpu-wheels                      # here: chainer, mlimages (and MPI) wheels into .whl/
#   benchmarks/gpu_check.sh [--out DIR]  # there, from the repository root (the device tool's
#                                        # `run`, carrying .whl; DIR defaults to $OUT)
#   benchmarks/gpu_check.sh --dry-run --out DIR   # every step on the CPU, small sizes (a test
#                                                 # runs this, so the script cannot rot)
#
# Options: --wheels DIR (default .whl), --python PY (default python3).  Every step has its own
# time limit (about 7 minutes in all); a failing step is recorded and the next one runs.
# What comes back (at most 8 files): gpu_check.log (every step's output), steps.tsv,
# bench.json, torch.json, export.json, summary.md.
set -u

DRY=0
DEST=${OUT:-}
WHEELS=.whl
PY=${PYTHON:-python3}
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1 ;;
        --out) DEST=$2; shift ;;
        --wheels) WHEELS=$2; shift ;;
        --python) PY=$2; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "gpu_check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$DEST" ]; then
    echo "gpu_check.sh: give --out DIR (or set OUT)" >&2; exit 2
fi
if ! ls "$WHEELS"/*.whl >/dev/null 2>&1; then
    echo "gpu_check.sh: no wheels in $WHEELS: run 'make gpu-wheels' first" >&2; exit 2
fi
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
WORK=$(mktemp -d)
LOG=$DEST/gpu_check.log
STEPS=$DEST/steps.tsv
: > "$LOG"
printf 'step\tstatus\tseconds\n' > "$STEPS"

if [ $DRY = 1 ]; then
    GPU=-1; TORCH_DEVICE=cpu
    BENCH=(--config small:4 --iterations 3 --images 16)
    PEER=(--batch 2 --iterations 3)
    TRAIN="--batchsize 4 --epoch 1"
else
    GPU=0; TORCH_DEVICE=cuda
    BENCH=(--config alex:128 --config alex:256 --config small:128 --iterations 120)
    PEER=(--batch 128 --batch 256 --iterations 120)
    TRAIN="--batchsize 32 --epoch 2"
fi

# step NAME SECONDS COMMAND...: run it with a time limit, its output into the log, its exit
# status and duration into steps.tsv.
step() {
    local name=$1 limit=$2 start rc
    shift 2
    echo "=== $name: $*" >> "$LOG"
    start=$EPOCHREALTIME
    if declare -F "$1" >/dev/null; then     # a function of this script: in a child bash
        timeout --kill-after=10 "$limit" bash -c "$(declare -f "$1"); $1" >> "$LOG" 2>&1
    else
        timeout --kill-after=10 "$limit" "$@" >> "$LOG" 2>&1
    fi
    rc=$?
    [ $rc = 124 ] && echo "=== $name: stopped after its limit of $limit s" >> "$LOG"
    awk -v n="$name" -v rc=$rc -v s="$start" -v e="$EPOCHREALTIME" \
        'BEGIN { printf "%s\t%s\t%.1f\n", n, rc, e - s }' >> "$STEPS"
    echo "$name: exit $rc" >&2
    return $rc
}

install_wheels() {
    "$PY" -m pip install -q --no-index --no-deps --no-compile --disable-pip-version-check \
        --target "$WORK/site" "$WHEELS"/*.whl && "$PY" -m mlimages info
}

make_data() {
    "$PY" -c "import sys; sys.path.insert(0, 'benchmarks'); import gpu_bench; \
print(gpu_bench.make_data(sys.argv[1], 96, val=0.25))" "$WORK/data"
}

train_distributed() {
    local mpiexec
    mpiexec=$(command -v mpiexec) || { echo "no mpiexec on PATH (carry the mpich wheel)"; return 3; }
    "$mpiexec" -n 1 "$PY" -m mlimages train "$WORK/data/lists/train.txt" --root \
        "$WORK/data/images" --mean "$WORK/data/mean.npy" --val "$WORK/data/lists/val.txt" --arch small --gpu "$GPU" \
        --distributed --out "$WORK/run" --quiet $TRAIN
}

export_onnx() {
    "$PY" -m mlimages export --help >/dev/null 2>&1 || { echo "no export command"; return 3; }
    "$PY" -m mlimages export "$WORK/run" --format onnx --out "$WORK/onnx/model.onnx" &&
        "$PY" benchmarks/gpu_onnx_check.py "$WORK/onnx/model.onnx" "$WORK/data" \
            --device "$TORCH_DEVICE" --json "$DEST/export.json"
}

export PY WORK GPU DEST TORCH_DEVICE WHEELS TRAIN
export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}" PATH="$WORK/site/bin:$PATH"
export PYTHONUNBUFFERED=1
step install 60 install_wheels
step gpu-tests 150 "$PY" -m pytest -m gpu -q -p no:cacheprovider -rs tests
step train-speed 120 "$PY" benchmarks/gpu_bench.py --gpu "$GPU" --json "$DEST/bench.json" "${BENCH[@]}"
step torch-peer 45 "$PY" benchmarks/gpu_torch_peer.py --device "$TORCH_DEVICE" \
    --json "$DEST/torch.json" "${PEER[@]}"
step data 30 make_data
step distributed 60 train_distributed
step export 60 export_onnx
"$PY" benchmarks/gpu_summary.py "$DEST" | tee "$DEST/summary.md"
rm -rf "$WORK"
