# Set-up and entry points. A fresh machine needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.mlimages-installed

.PHONY: setup test demo bench clean

setup: $(STAMP)

# Chainer 7.8.1 is an sdist whose setup.py imports pkg_resources, which
# setuptools>=81 no longer ships: build it with an older setuptools, outside
# pip's isolated build environment.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip 'setuptools>=77,<81' wheel
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation 'chainer==7.8.1'
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation -e '.[test]'
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/mlimages demo

clean:
	rm -rf $(VENV) demo-output .pytest_cache
