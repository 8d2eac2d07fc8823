# Set-up and entry points. A fresh machine needs only python3 (3.11+) and make; with a C
# compiler (cc) the loader's single-pass preprocessing is compiled too (else NumPy does it).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.mlimages-installed

.PHONY: setup test demo bench bench-data bench-torch bench-mean bench-loader bench-loader-budget bench-train bench-cpu-train bench-audit bench-gather gpu-wheels gpu-check-dry clean

setup: $(STAMP)

# Chainer 7.8.1 is an sdist whose setup.py imports pkg_resources, which
# setuptools>=81 no longer ships: build it with an older setuptools, outside
# pip's isolated build environment.
# An editable install compiles no bytecode (a regular one does), and where
# PYTHONDONTWRITEBYTECODE is set nothing writes it later: without compileall every command
# would compile the package again (0.05-0.1 s of start-up).
$(STAMP): pyproject.toml mlimages/loader/_native.c
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip 'setuptools>=77,<81' wheel
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation 'chainer==7.8.1'
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation -e '.[test,mpi,onnx]'
	$(PY) -m compileall -q mlimages
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/mlimages demo

# Benchmarks (not part of the tests). The images are made in a separate venv, because
# scikit-image and scikit-learn (whose sample photos they are cut from) are not dependencies.
BENCH_VENV ?= .venv-bench
BENCH_DATA ?= bench-data

bench-data:
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check -r benchmarks/requirements.txt
	$(BENCH_VENV)/bin/python benchmarks/make_bench_data.py --out $(BENCH_DATA) --count 2000

bench-mean: $(STAMP) bench-data
	$(PY) benchmarks/bench_mean.py --data $(BENCH_DATA) --repeat 3

# PyTorch, the peer baseline of bench-loader and bench-cpu-train, goes into the bench venv only
# (a large download, so not part of `make bench`); without it they print a note, no column.
bench-torch:
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check -r benchmarks/requirements-torch.txt

bench-loader: $(STAMP) bench-data
	TORCH_PYTHON=$(BENCH_VENV)/bin/python $(PY) benchmarks/bench_loader.py --data $(BENCH_DATA) --repeat 3

# One loader worker's CPU per image, step by step, beside the Pillow decode limit's own work.
bench-loader-budget: $(STAMP) bench-data
	$(PY) benchmarks/loader_budget.py --data $(BENCH_DATA) --rounds 5

# AlexNet training steps: the loader pipeline against the same batches in memory.
bench-train: $(STAMP)
	$(PY) benchmarks/bench_train.py

# The CPU training step: Chainer's functions vs mlimages.models.cpu vs PyTorch (same run;
# the PyTorch column needs `make bench-torch`, else it is skipped with a note).
bench-cpu-train: $(STAMP)
	$(PY) benchmarks/bench_cpu_train.py --torch-python $(BENCH_VENV)/bin/python

# The audit's scan against a plain draft decode, and its grouping of 100,000 hashes.
bench-audit: $(STAMP)
	$(PY) benchmarks/bench_audit.py

# gather against img2dataset (and two plain requests pools), each in its own process against
# a local site; img2dataset goes into a venv of its own, never into mlimages' .venv.
IMG2DATASET_VENV ?= .venv-img2dataset
bench-gather: $(STAMP)
	@test -x $(IMG2DATASET_VENV)/bin/img2dataset || { $(PYTHON) -m venv $(IMG2DATASET_VENV) && \
	    $(IMG2DATASET_VENV)/bin/python -m pip install -q --disable-pip-version-check 'img2dataset==1.47.0'; }
	$(PY) benchmarks/bench_gather.py --img2dataset $(IMG2DATASET_VENV)/bin/img2dataset --data $(BENCH_DATA)/gather --repeats 3

bench: bench-mean bench-loader bench-loader-budget bench-train bench-cpu-train bench-audit bench-gather

# The GPU machine's run (benchmarks/gpu_check.sh): the wheels it installs, built here.
# chainer is pure Python; mlimages' wheel carries the loader's compiled loop for any CPython
# >= 3.11 on x86-64 Linux (abi3); mpich and mpi4py give it `mpiexec` for ChainerMN; the
# export's onnx pin (read from pyproject.toml) replaces the newer onnx that machine has.
GPU_WHEELS ?= .whl
GPU_PY     ?= 3.12
ONNX_PIN   := $(shell grep -o '"onnx==[0-9.]*"' pyproject.toml | tr -d '"')
gpu-wheels: $(STAMP)
	rm -rf $(GPU_WHEELS) && mkdir -p $(GPU_WHEELS)
	$(PY) -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w $(GPU_WHEELS) 'chainer==7.8.1' .
	$(PY) -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
	    --python-version $(GPU_PY) --implementation cp --platform manylinux_2_28_x86_64 \
	    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d $(GPU_WHEELS) \
	    mpich mpi4py '$(ONNX_PIN)'
	@du -sh $(GPU_WHEELS)

# Every step of the GPU run on the CPU, small (tests/test_gpu_check.py runs the same).
gpu-check-dry:
	$(MAKE) gpu-wheels GPU_PY=$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	benchmarks/gpu_check.sh --dry-run --python $(PY) --wheels $(GPU_WHEELS) --out gpu-check-dry

clean:
	rm -rf $(VENV) demo-output .pytest_cache
