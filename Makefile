# The front door: `make run` and `make test` set up everything on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test test-unit bench lint clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(STAMP)  ## Create .venv with newsmon and its tests' needs; apt-get redis-server, kcat, prometheus, docker-compose

$(STAMP): pyproject.toml deploy/local/requirements-embedded.txt deploy/local/install-system-packages.sh
	deploy/local/install-system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r deploy/local/requirements-embedded.txt
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install  ## Start the whole stack on embedded defaults, replay the samples, print alerts as they fire
	$(BIN)/newsmon up --replay samples/articles

test: install  ## Run unit and integration tests (starts the embedded stack once)
	$(BIN)/pytest

test-unit: install  ## Run only the unit tests (no broker, no Redis)
	$(BIN)/pytest -m "not integration"

bench: install  ## Benchmarks (~60 min, alone on the machine): latency percentiles, and each ratio to the raw library with its target
	@for bench in tests/bench/bench_*.py; do $(BIN)/python $$bench || exit 1; done

lint: install  ## Static checks: ruff (style, imports, unused suppressions) and mypy --strict on the product code
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:  ## Remove the virtualenv and local data
	rm -rf $(VENV) .newsmon .pytest_cache
