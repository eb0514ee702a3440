# atelier: the first two targets are the README's first two commands.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install tools bench clean

run: install            ## embedded PostgreSQL + a generated data set + the API on :3000
	$(BIN)/atelier up

test: install tools     ## the whole test suite (real PostgreSQL, real HTTP server)
	$(BIN)/python -m pytest -q

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
