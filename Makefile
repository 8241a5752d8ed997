# volplane — the two set-up commands are `make up` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

.PHONY: up test check bench services venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Run gateway, worker (+ sweeper) and a local agent on this machine, SQLite under ./var.
up: venv
	$(VENV)/bin/volplane up --port 8080 --data-dir ./var

## Install and start what the tests need, then run every test.
test: venv services
	$(PY) -m pytest -q -p no:cacheprovider

## Make sure qemu-img, Redis and PostgreSQL are installed and running.
services:
	bash .ci/services.sh

## Lint and type-check.
check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## Benchmarks (all, or `make bench BENCH="jobs query"`); results go to docs/benchmarks.md.
bench: venv services
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) -m bench $(BENCH)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
