# On a fresh Debian machine with Python 3.11:
#   make demo    install what grading needs, grade the bundled sample class
#   make check   install the tests' tools too, lint, run the fast tests (minutes)
#   make test    install the tests' tools too, lint, run every test (what CI runs)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Test processes for pytest-xdist: tests that share a graded class run on one
# (tests/conftest.py), the others are spread over all of them.
WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(WORKERS)
GRADER_STAMP := $(VENV)/.grader-$(shell cat requirements.txt pyproject.toml | sha256sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -c1-12)
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup setup-dev demo check test lint bytecode generate check-generated wheel clean

# What grading needs (requirements.txt), for `make demo` and a grading server. The
# grader is installed in editable mode: jupyter_client finds its kernel provisioner
# through the entry point pyproject.toml declares.
$(GRADER_STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.grader-* $(VENV)/.dev-*
	touch $(GRADER_STAMP)

# The tests' and the maintainer's tools on top (requirements-dev.txt).
$(DEV_STAMP): $(GRADER_STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.dev-*
	touch $(DEV_STAMP)

# Debian packages (run as root, as on CI): bubblewrap for the grader's sandbox around
# students' code; for the tests, chromium (the browser tests) and postgresql (the
# tests that put the class gradebook in a PostgreSQL server they start, --db).
SANDBOX_STAMP := $(VENV)/.debian-sandbox-1
$(SANDBOX_STAMP): | $(GRADER_STAMP)
	command -v bwrap >/dev/null || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap)
	touch $(SANDBOX_STAMP)

TEST_PACKAGES_STAMP := $(VENV)/.debian-tests-1
$(TEST_PACKAGES_STAMP): | $(DEV_STAMP)
	(command -v chromium >/dev/null && \
		ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1) || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium postgresql)
	touch $(TEST_PACKAGES_STAMP)

setup: $(GRADER_STAMP) $(SANDBOX_STAMP)  ## what grading needs

setup-dev: setup $(DEV_STAMP) $(TEST_PACKAGES_STAMP)  ## and the tests' tools

generate: setup-dev  ## rebuild data/data.pkl, the helper's data.npy and release/
	$(BIN)/python data/build_data.py
	$(BIN)/python -m grader release

check-generated: setup-dev  ## fail when a generated file differs from a fresh build
	$(BIN)/python data/build_data.py --check
	$(BIN)/python -m grader release --check

wheel: setup  ## build dist/backprop_helper-*.whl (publish it at course.toml's helper_url)
	$(BIN)/python -m grader wheel --out dist

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Byte code for the grader, the helper and the tests, written once here: with
# PYTHONDONTWRITEBYTECODE set (as on CI), every process the tests start (each
# `python -m grader`, each of its workers) would otherwise compile them again.
bytecode: setup
	$(BIN)/python -m compileall -q grader source/backprop/backprop_helper tests

check: lint bytecode  ## the fast tier: every test not marked slow
	$(PYTEST) -m "not slow"

test: lint bytecode  ## every test
	$(PYTEST)

demo: setup
	$(BIN)/python -m grader sample-class demo-output/sample-class --replace
	$(BIN)/python -m grader grade demo-output/sample-class --out demo-output/graded \
		--cell-timeout 20 --notebook-timeout 120

clean:
	rm -rf demo-output .pytest_cache .ruff_cache
