# One command to run the demo, one to run the tests; both create .venv on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test lint typecheck bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	sh tests/tools/install-helm.sh $(VENV)
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/omnigate demo

test: $(STAMP_TEST)
	$(BIN)/ruff check gateway tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP_TEST)
	$(BIN)/ruff check gateway tests bench
	$(BIN)/mypy

bench: $(STAMP_RUN)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
