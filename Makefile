# The two commands: `make run` (the whole app locally) and `make test` (everything CI runs).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test model system-deps clean

run: $(STAMP)
	$(BIN)/punchline dev

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

model: $(STAMP)
	$(BIN)/punchline train corpus --out models/default --quantize float16 --also-quantize none --also-quantize int8

$(STAMP): requirements.txt functions/requirements.txt site/requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core; \
	fi

clean:
	rm -rf $(VENV) build public reports test-artifacts
