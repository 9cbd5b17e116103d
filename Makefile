# Two commands on a fresh Debian machine with Python 3.11:
#   make demo   set up, regenerate data and release, grade the bundled sample class
#   make test   set up, lint, and run every test (what CI runs)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -c1-12)
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup demo test lint generate check-generated wheel clean

# The grader is installed in editable mode: jupyter_client finds its kernel
# provisioner through the entry point pyproject.toml declares.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Debian packages (run as root, as on CI): chromium for the browser tests,
# bubblewrap for the grader's sandbox around students' code, postgresql for the
# tests that put the class gradebook in a PostgreSQL server they start (--db).
SYSTEM_STAMP := $(VENV)/.debian-packages-3
$(SYSTEM_STAMP): | $(STAMP)
	(command -v chromium >/dev/null && command -v bwrap >/dev/null && \
		ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1) || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium bubblewrap postgresql)
	touch $(SYSTEM_STAMP)

setup: $(STAMP) $(SYSTEM_STAMP)

generate: setup  ## rebuild data/data.pkl, the helper's data.npy and release/
	$(BIN)/python data/build_data.py
	$(BIN)/python -m grader release

check-generated: setup  ## fail when a generated file differs from a fresh build
	$(BIN)/python data/build_data.py --check
	$(BIN)/python -m grader release --check

wheel: setup  ## build dist/backprop_helper-*.whl (publish it at course.toml's helper_url)
	$(BIN)/python -m grader wheel --out dist

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint
	$(BIN)/python -m pytest

demo: generate
	$(BIN)/python -m grader sample-class demo-output/sample-class --replace
	$(BIN)/python -m grader grade demo-output/sample-class --out demo-output/graded \
		--cell-timeout 20 --notebook-timeout 120

clean:
	rm -rf demo-output .pytest_cache .ruff_cache
