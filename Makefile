# atelier: the first two targets are the README's first two commands.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint install tools bench clean

run: install            ## embedded PostgreSQL + a generated data set + the API on :3000
	$(BIN)/atelier up

test: install tools lint ## the linter, the type checker, the whole test suite (real PostgreSQL, real HTTP server)
	$(BIN)/python -m pytest -q

lint: install           ## ruff and mypy (settings in pyproject.toml)
	$(BIN)/ruff check atelier tests bench
	$(BIN)/mypy

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

tools:                  ## load generators and headless Chromium (Debian packages), when missing
	@bash bench/install-tools.sh

clean:
	rm -rf $(VENV) build .pytest_cache
