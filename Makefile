# Bayesian workbench for coup-proofing and alliances. `make fit` and `make test` set everything up.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BUILD ?= build
DATA_DIR ?= $(or $(COUPPROOF_DATA_DIR),../shared/data/raw)
CLI := $(VENV)/bin/coupproof
PANEL := $(BUILD)/panel.nc

# Find a working Python 3.12: $(PYTHON) if given, python3.12 on PATH, then pyenv's versions/3.12*. Each candidate
# must run and report 3.12 (a pyenv shim on PATH can exist and still fail).
PYENV_ROOT_DIR := $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
PYTHON312 := $(shell for c in $(PYTHON) python3.12 $$(ls -d $(PYENV_ROOT_DIR)/versions/3.12*/bin/python3.12 2>/dev/null | sort -V -r); do \
  "$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 && { command -v "$$c"; break; }; done)

.PHONY: help data freq fit report sensitivity robustness test browser bench lock clean distclean

help:
	@echo "make data   build the directed dyad-year panel ($(PANEL)) and compare it with the paper"
	@echo "make freq   frequentist reproduction of Tables 1-2 and Figures 1 and 3 (build/freq/)"
	@echo "make fit    build the panel if needed, then fit the Bayesian models (build/fits/; FIT_MODELS, FIT_ARGS)"
	@echo "make report HTML report of the saved fits, with figures and tables (build/report/)"
	@echo "make sensitivity  power-scaling of the fits and refits under prior sets (build/sensitivity/; SENS_ARGS)"
	@echo "make robustness   the paper's robustness checks, every variant of Models 2 and 4 (build/robustness/)"
	@echo "make test   run the test suite"
	@echo "make lock   re-resolve requirements.lock (exact versions that make installs) from pyproject.toml"
	@echo "make bench  time the panel build, the frequentist fits, the Bayesian fit of Model 4 and the frequentist"
	@echo "            robustness suite ($(BUILD)/bench/; the Bayesian suite's time: build/robustness/timing.json)"

# The environment is installed from requirements.lock (exact versions of every package, for reruns that give the
# same draws next year); pyproject.toml keeps the loose ranges for users who add the package to their own.
$(VENV)/.installed: pyproject.toml requirements.lock
	@if [ -z "$(PYTHON312)" ]; then \
	  echo "error: Python 3.12 not found. Install it (e.g. 'pyenv install 3.12' or your OS package python3.12)," >&2; \
	  echo "       or run 'make PYTHON=/path/to/python3.12 ...'." >&2; exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON312)"
	@test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

# Re-resolve requirements.lock from pyproject.toml's ranges (newest versions that fit; commit the result).
lock: $(VENV)/.installed
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.12 --no-header \
	  --output-file requirements.lock

$(PANEL): $(VENV)/.installed
	$(CLI) data --data-dir "$(DATA_DIR)" --out $(PANEL) --check

data: $(VENV)/.installed
	$(CLI) data --data-dir "$(DATA_DIR)" --out $(PANEL) --check

freq: $(PANEL)
	$(CLI) freq --panel $(PANEL) --out $(BUILD)/freq

# Bayesian fits: which models and sampler settings (see `coupproof fit --help`).
FIT_MODELS ?= all
FIT_ARGS ?= --sampler nutpie --draws 1250 --tune 300 --chains 2

fit: $(PANEL)
	$(CLI) fit --model $(FIT_MODELS) --panel $(PANEL) --out $(BUILD)/fits $(FIT_ARGS)

# The report reads the saved fits and frequentist results; it never refits (run make fit and make freq first).
report: $(VENV)/.installed
	$(CLI) report --fits $(BUILD)/fits --panel $(PANEL) --freq $(BUILD)/freq/fits.json --out $(BUILD)/report \
	  --sensitivity $(BUILD)/sensitivity --robustness $(BUILD)/robustness

# Prior sensitivity: power-scaling of the saved fits, refits of SENS_MODELS under every prior set on Dask.
SENS_MODELS ?= m4
SENS_ARGS ?=

sensitivity: $(PANEL)
	$(CLI) sensitivity --model $(SENS_MODELS) --panel $(PANEL) --fits $(BUILD)/fits --out $(BUILD)/sensitivity $(SENS_ARGS)

# The robustness suite: every variant of models/robustness.toml (ROBUST_ARGS, e.g. --variants raw_count,polity_5).
ROBUST_ARGS ?=

robustness: $(PANEL)
	$(CLI) robustness --panel $(PANEL) --data-dir "$(DATA_DIR)" --out $(BUILD)/robustness $(ROBUST_ARGS)

# Tests run in TEST_WORKERS processes (pytest-xdist), each test file in one of them so that its fixtures are built once.
TEST_WORKERS ?= 2

# The report's browser test opens report.html in headless Chromium: Debian's chromium package is installed where it
# is missing (as root, or with passwordless sudo); where it cannot be, that one test is skipped with a warning.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  echo "Installing Debian's chromium package (headless browser for the report test)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the report's browser test will be skipped"; }

test: $(VENV)/.installed browser
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=10

bench: $(VENV)/.installed $(PANEL)
	$(PY) -m data_prep.bench --data-dir "$(DATA_DIR)" --out $(BUILD)/bench/panel_build.json
	$(PY) -m inference.bench_frequentist --panel $(PANEL) --out $(BUILD)/bench/frequentist.json
	$(PY) -m inference.bench_bayes --panel $(PANEL) --out $(BUILD)/bench/bayes.json
	$(CLI) robustness --no-bayes --panel $(PANEL) --data-dir "$(DATA_DIR)" --out $(BUILD)/bench/robustness

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf $(VENV) *.egg-info
