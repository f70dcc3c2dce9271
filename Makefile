# Bayesian workbench for coup-proofing and alliances. `make fit` and `make test` set everything up.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BUILD ?= build
DATA_DIR ?= $(or $(COUPPROOF_DATA_DIR),../shared/data/raw)
CLI := $(VENV)/bin/coupproof
PANEL := $(BUILD)/panel.nc

# Find a Python 3.12 interpreter: PYTHON, python3.12 on PATH, then pyenv's versions.
PYTHON312 := $(or $(PYTHON),$(shell command -v python3.12 2>/dev/null),$(shell ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.12*/bin/python3.12 2>/dev/null | sort -V | tail -n 1))

.PHONY: help data fit test bench clean distclean

help:
	@echo "make data   build the directed dyad-year panel ($(PANEL)) and compare it with the paper"
	@echo "make fit    build the panel if needed, then run the model fits"
	@echo "make test   run the test suite"
	@echo "make bench  time the panel build; results in $(BUILD)/bench/"

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON312)" ]; then \
	  echo "error: Python 3.12 not found. Install it (e.g. 'pyenv install 3.12' or your OS package python3.12)," >&2; \
	  echo "       or run 'make PYTHON=/path/to/python3.12 ...'." >&2; exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON312)"
	@test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

$(PANEL): $(VENV)/.installed
	$(CLI) data --data-dir "$(DATA_DIR)" --out $(PANEL) --check

data: $(VENV)/.installed
	$(CLI) data --data-dir "$(DATA_DIR)" --out $(PANEL) --check

fit: $(PANEL)
	@echo "Panel ready at $(PANEL). Model fitting (issue 5) is not implemented yet: 'make fit' stops after the data step."

test: $(VENV)/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) -m data_prep.bench --data-dir "$(DATA_DIR)" --out $(BUILD)/bench/panel_build.json

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf $(VENV) *.egg-info
