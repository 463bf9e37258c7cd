# Two commands do all the set-up on a fresh machine:
#   make up     install simcluster into .venv and start a 3-node cluster (Ctrl-C stops it)
#   make test   install everything the tests need (Python packages, and the Debian packages of
#               scripts/install_system_packages.sh when run as root), run the checks (lint, format, types,
#               layers), then the suite
# `make lint` runs the checks alone; VENV=... picks another virtual environment (CI uses a fresh one).

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
NODES ?= 3

.PHONY: up test lint check-deps install install-test system-packages

up: install
	$(BIN)/simcluster up --nodes $(NODES)

test: install-test system-packages lint
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

# Debian packages tests need beyond Python ones (chromium, the Prometheus exporter); idempotent.
system-packages:
	bash scripts/install_system_packages.sh
