# corps — `make help` lists the targets. Every target installs what it needs itself.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST := scripts/pytest-tier

.PHONY: help install demo test test-unit test-integration bench lint typecheck check clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml scripts/install-system-deps
	scripts/install-system-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install corps with its dev tools

demo: install ## The main job: local broker + registry, a real workflow, then an audit replay
	$(BIN)/corps demo

test: install ## All tests: lint, types, schema checks, unit, then integration/e2e/fault on a real local stack
	$(MAKE) --no-print-directory lint typecheck
	$(BIN)/corps schemas check schemas/
	$(PYTEST) unit $(BIN)/pytest tests/unit
	$(PYTEST) integration $(BIN)/pytest tests/integration tests/e2e tests/fault

test-unit: install ## Unit tests only (never touch a broker)
	$(PYTEST) unit $(BIN)/pytest tests/unit

test-integration: install ## Integration, e2e and fault tests against the real stack
	$(PYTEST) integration $(BIN)/pytest tests/integration tests/e2e tests/fault

bench: install ## Benchmarks: corps figures beside raw baselines, same run; writes bench/results/latest.json
	$(BIN)/python -m bench

lint: install ## ruff
	$(BIN)/ruff check src tests bench services
	$(BIN)/ruff format --check src tests bench services

typecheck: install ## mypy --strict
	$(BIN)/mypy

clean: ## Stop the local stack and remove build and test leftovers (keeps the download cache)
	-test -x $(BIN)/corps && $(BIN)/corps dev down
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist src/*.egg-info .corps
