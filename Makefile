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

.PHONY: help all data freq fit report sensitivity priors robustness dyadic concessions cluster cluster-stop test-cluster test-slow dca institutions validate prior-check docs test browser bench lock \
  clean distclean FORCE

help:
	@echo "make all    from the raw files to the report: panel, frequentist tables, Bayesian fits, power-scaling,"
	@echo "            report (build/report/report.html); each step skipped when its inputs have not changed"
	@echo "make data   build the directed dyad-year panel ($(PANEL)) and compare it with the paper"
	@echo "make freq   frequentist reproduction of Tables 1-2 and Figures 1 and 3 (build/freq/)"
	@echo "make fit    build the panel if needed, then fit the Bayesian models (build/fits/; FIT_MODELS, FIT_ARGS)"
	@echo "make report HTML report of the saved fits, with figures and tables (build/report/); makes what it needs"
	@echo "make sensitivity  power-scaling of the fits and refits under prior sets (build/sensitivity/; SENS_ARGS)"
	@echo "make priors       the default priors against the regularising and wide sets, every model refitted under"
	@echo "                  both (build/sensitivity/prior_defaults.*; PRIORS_ARGS)"
	@echo "make robustness   the paper's robustness checks, every variant of Models 2 and 4 (build/robustness/)"
	@echo "make dyadic       Models 2 and 4 and Table 2 with sender, receiver and dyad intercepts (build/dyadic/fits/)"
	@echo "make concessions  every reading of the concession measure ranked by its distance to Table 5 (build/concessions/)"
	@echo "make dca    the second study, Rahman (2026): DCAs and coup attempts in country-years, from the raw files"
	@echo "            to its report ($(BUILD)/country_year/report/report.html; DCA_MODELS, DCA_FIT_ARGS)"
	@echo "make institutions  the third study, Kim & Woods (2022): ordinal models of new pacts' institutionalization"
	@echo "            ($(BUILD)/institutions/report/report.html; INST_MODELS, INST_FIT_ARGS)"
	@echo "make validate     simulation-based calibration of every model family, recovery at Model 4's posterior"
	@echo "            mean and the kernel's marginal MLE against an independent reference (build/validate/;"
	@echo "            cached per simulation, each case's time on the results page; VALIDATE_ARGS, e.g. --cases logit_dyad)"
	@echo "make prior-check  prior predictive check of every packaged model and robustness variant: the observed event"
	@echo "            rate (count mean, category shares) against the central 90% of what the priors predict"
	@echo "            ($(BUILD)/prior_check/; PRIOR_CHECK_ARGS, e.g. --priors wide)"
	@echo "make docs   results pages docs/results/*.md from the build outputs (coupproof results); builds nothing"
	@echo "make test   run the test suite (make test-slow: make all on a tiny panel, bit-identical fits in a"
	@echo "            subprocess, Dask refits; make test-cluster: a real Dask cluster)"
	@echo "make cluster / make cluster-stop   a Dask scheduler and CLUSTER_WORKERS workers on this machine, for the"
	@echo "            fan-out commands' --scheduler ($(BUILD)/cluster/)"
	@echo "make lock   re-resolve requirements.lock (exact versions that make installs) from pyproject.toml"
	@echo "make bench  time the panel build, the frequentist fits, the six Bayesian fits (and plain Model 4), the"
	@echo "            frequentist robustness suite, the country-year panel and DCA fits, your own data and"
	@echo "            sender-receiver intercepts, non-centred or centred by information (benchmarks/; results in"
	@echo "            $(BUILD)/bench/; the Bayesian robustness suite's time: build/robustness/timing.json)"

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

# What each step reads: a step reruns only when one of its inputs has changed since its output was made (make all,
# make report): the panel for its checksum, code and specs by the checksum files below, raw files by their time.
# (raw file names may hold spaces, which make cannot list: the panel is remade when any raw file is newer than it)
# The panel step's own time stamp is $(PANEL_DONE): the panel file itself is rewritten only when its content changes
# (same checksum: left as it is), so a rebuilt but identical panel does not make the fits and reports stale.
PANEL_DONE := $(BUILD)/.panel.done
RAW_CHANGED := $(if $(wildcard $(PANEL_DONE)),$(shell find "$(DATA_DIR)" -type f -newer $(PANEL_DONE) 2>/dev/null | head -n 1))
PANEL_CODE := $(wildcard data_prep/*.py)
MODEL_CODE := $(wildcard models/*.py models/priors/*.toml inference/*.py)
PAPER_SPECS := models/paper_models.toml
REPORT_CODE := $(wildcard reports/*.py)

# Steps rerun when the content of their code and specs changes, not their time stamps (a checkout, a copy or a pull
# that leaves a file as it was leaves the build up to date): each group of inputs has a checksum file under $(SUMS),
# rewritten only when the checksum changes (make then sees a newer input). A new checksum file takes the newest
# input's time stamp, so an existing build is judged as before the first time.
SUMS := $(BUILD)/.sums
SUM_FILES_panel_code := $(PANEL_CODE)
SUM_FILES_model_code := $(MODEL_CODE)
SUM_FILES_paper_specs := $(PAPER_SPECS)
SUM_FILES_report_code := $(REPORT_CODE)
sums = $(foreach name,$(1),$(SUMS)/$(name).sum)

$(SUMS)/%.sum: FORCE
	@files="$(SUM_FILES_$*)"; [ -n "$$files" ] || { echo "error: no input files for $@" >&2; exit 1; }; \
	mkdir -p $(SUMS); new=$$(sha256sum $$files | sha256sum | cut -d' ' -f1); \
	[ -f $@ ] && [ "$$new" = "$$(cat $@)" ] && exit 0; echo "$$new" > $@.tmp && \
	{ [ -f $@ ] || touch -r "$$(ls -t $$files | head -n 1)" $@.tmp; } && mv $@.tmp $@

MODELS ?= m1 m2 m3 m4 h1 h2
comma := ,
MODEL_LIST = $(subst $(eval) ,$(comma),$(strip $(MODELS)))
FITS := $(foreach m,$(MODELS),$(BUILD)/fits/$(m)_marginal.nc)
FREQ := $(BUILD)/freq/fits.json
SCALING := $(BUILD)/sensitivity/power_scaling.csv
REPORT := $(BUILD)/report/report.html

# $(call step,NAME,COMMAND): one progress line before and after a step of make all, with its time.
step = @echo "[$(1)] started $$(date +%T)"; start=$$(date +%s); $(2) && echo "[$(1)] done in $$(( $$(date +%s) - start )) s"

$(PANEL_DONE): $(VENV)/.installed $(call sums,panel_code) $(if $(RAW_CHANGED),FORCE)
	$(call step,panel,$(CLI) data --data-dir "$(DATA_DIR)" --out $(PANEL) --check) && touch $@

$(PANEL): $(PANEL_DONE)
	@test -f $@ || { rm -f $(PANEL_DONE); $(MAKE) --no-print-directory $(PANEL_DONE); }

data: $(VENV)/.installed
	$(CLI) data --data-dir "$(DATA_DIR)" --out $(PANEL) --check

freq: $(FREQ)

$(FREQ): $(PANEL) $(call sums,model_code paper_specs report_code)
	$(call step,frequentist,$(CLI) freq --models $(MODEL_LIST) --panel $(PANEL) --out $(BUILD)/freq)

# Bayesian fits: which models and sampler settings (see `coupproof fit --help`). Tuning 100: each of the six
# passed the gate at it in `make bench` (December 6-7: bulk ESS 1,441-1,863, tail 1,074-1,437, R-hat <= 1.006, no
# divergences, 5.0-7.4 leapfrog steps per draw) in 1,523 s together against 1,944 s at tuning 300.
FIT_MODELS ?= all
FIT_ARGS ?= --sampler nutpie --draws 1000 --tune 100 --chains 2 --ess-min 1000 --retries 1

fit: $(PANEL)
	$(CLI) fit --model $(FIT_MODELS) --panel $(PANEL) --out $(BUILD)/fits $(FIT_ARGS)

# One model's fit, remade when the panel, the model code or its specs and priors change (make all, make report).
$(BUILD)/fits/%_marginal.nc: $(PANEL) $(call sums,model_code paper_specs)
	$(call step,fit $*,$(CLI) fit --model $* --panel $(PANEL) --out $(BUILD)/fits $(FIT_ARGS))

$(SCALING): $(FITS) $(call sums,report_code)
	$(call step,power-scaling,$(CLI) sensitivity --no-refits --panel $(PANEL) --fits $(BUILD)/fits \
	  --out $(BUILD)/sensitivity)

# The report reads the saved fits, the frequentist results and the power-scaling, making those that are missing or
# out of date first; it never refits otherwise. Prior-set refits and the robustness suite are added when present.
report: $(REPORT)

$(REPORT): $(FREQ) $(FITS) $(SCALING) $(call sums,report_code)
	$(call step,report,$(CLI) report --model $(MODEL_LIST) --fits $(BUILD)/fits --panel $(PANEL) \
	  --freq $(FREQ) --out $(BUILD)/report \
	  --sensitivity $(BUILD)/sensitivity --robustness $(BUILD)/robustness --validate $(BUILD)/validate)

# From raw files to the report: panel, frequentist tables, the six Bayesian fits, power-scaling, report; each step
# skipped when its inputs have not changed (one line per step), and the total time at the end.
all: $(VENV)/.installed
	@start=$$(date +%s); marker=$$(mktemp); trap 'rm -f $$marker' EXIT; \
	$(MAKE) --no-print-directory $(REPORT) && \
	for f in $(PANEL) $(FREQ) $(FITS) $(SCALING) $(REPORT); do [ $$f -nt $$marker ] || echo "[up to date] $$f"; done && \
	echo "make all: finished in $$(( $$(date +%s) - start )) s; the report is $(REPORT)"

# Prior sensitivity: power-scaling of the saved fits, refits of SENS_MODELS under every prior set on Dask.
SENS_MODELS ?= m4
SENS_ARGS ?=

sensitivity: $(PANEL)
	$(CLI) sensitivity --model $(SENS_MODELS) --panel $(PANEL) --fits $(BUILD)/fits --out $(BUILD)/sensitivity $(SENS_ARGS)

# The default priors against the regularising and wide sets: MODELS refitted under both on Dask (cached), each key
# interaction side by side with power-scaling of the default fits; the report adds the table when present.
PRIORS_ARGS ?=
PRIOR_CHECK := $(BUILD)/sensitivity/prior_defaults.csv

priors: $(PRIOR_CHECK)

$(PRIOR_CHECK): $(FITS) $(FREQ) $(call sums,report_code)
	$(call step,priors,$(CLI) priors --model $(MODEL_LIST) --panel $(PANEL) --fits $(BUILD)/fits --freq $(FREQ) \
	  --out $(BUILD)/sensitivity $(PRIORS_ARGS))

# The robustness suite: every variant of models/robustness.toml (ROBUST_ARGS, e.g. --variants raw_count,polity_5).
ROBUST_ARGS ?=

robustness: $(PANEL)
	$(CLI) robustness --panel $(PANEL) --data-dir "$(DATA_DIR)" --out $(BUILD)/robustness $(ROBUST_ARGS)

# Sender, receiver and dyad intercepts (models/dyadic_models.toml): Table 1 Models 2 and 4 and Table 2's models
# refitted with State A's and State B's intercepts beside the dyad's. The state sds mix slowly, so these fits draw
# more than FIT_ARGS: Models 2 and 4 (DYADIC_MODELS, DYADIC_FIT_ARGS) passed at 2 x 4,000 draws (State A's sd at
# 0.15-0.2 effective draws per draw: bulk ESS 1,330-1,440); Table 2's (DYADIC_HURDLE_MODELS, DYADIC_HURDLE_ARGS)
# need about twice that (about 0.1 per draw: Model 2 passed at 2 x 6,000 with 1,190, Model 1 at 2 x 10,000 with
# 2,090 and fell short at 2 x 4,000 with 536). A fit that falls short is refitted at twice the length.
DYADIC_MODELS ?= m2_srd,m4_srd
DYADIC_FIT_ARGS ?= --sampler nutpie --draws 4000 --tune 300 --chains 2 --ess-min 1000 --retries 1
DYADIC_HURDLE_MODELS ?= h1_srd,h2_srd
DYADIC_HURDLE_ARGS ?= --sampler nutpie --draws 8000 --tune 300 --chains 2 --ess-min 1000 --retries 1

concessions: $(PANEL)
	$(CLI) concessions --data-dir "$(DATA_DIR)" --panel $(PANEL) --out $(BUILD)/concessions

dyadic: $(PANEL)
	$(if $(DYADIC_MODELS),$(CLI) fit --specs models/dyadic_models.toml --model $(DYADIC_MODELS) --panel $(PANEL) \
	  --out $(BUILD)/dyadic/fits $(DYADIC_FIT_ARGS))
	$(if $(DYADIC_HURDLE_MODELS),$(CLI) fit --specs models/dyadic_models.toml --model $(DYADIC_HURDLE_MODELS) \
	  --panel $(PANEL) --out $(BUILD)/dyadic/fits $(DYADIC_HURDLE_ARGS))

# Further studies: the same commands on another design's panel with the study's specs; each step, as in make all,
# skipped when its inputs have not changed. $(call study,PREFIX,target,folder,design,specs,fit method,title) writes
# the rules; PREFIX_MODELS, PREFIX_SENS_MODEL, PREFIX_FIT_ARGS and PREFIX_SENS_ARGS choose the models, the model
# refitted under every prior set of models/priors/sensitivity.toml (with power-scaling of every fit), and the sampler
# settings of the fits and of the refits.
define study
$(1)_PANEL := $(3)/panel.nc
$(1)_LIST = $$(subst $$(eval) ,$$(comma),$$(strip $$($(1)_MODELS)))
$(1)_FITS := $$(foreach m,$$($(1)_MODELS),$(3)/fits/$$(m)_$(6).nc)
$(1)_FREQ := $(3)/freq/fits.json
$(1)_SENS := $(3)/sensitivity/prior_sets_$$($(1)_SENS_MODEL).csv
$(1)_REPORT := $(3)/report/report.html
SUM_FILES_$(1)_specs := $(5)
$(1)_RAW_CHANGED := $$(if $$(wildcard $(3)/panel.nc),$$(shell find "$$(DATA_DIR)" -type f -newer $(3)/panel.nc 2>/dev/null | head -n 1))

$(3)/panel.nc: $$(VENV)/.installed $$(call sums,panel_code) $$(if $$($(1)_RAW_CHANGED),FORCE)
	$$(call step,$(4) panel,$$(CLI) data --design $(4) --data-dir "$$(DATA_DIR)" --out $(3)/panel.nc)

$(3)/freq/fits.json: $(3)/panel.nc $$(call sums,model_code $(1)_specs report_code)
	$$(call step,frequentist,$$(CLI) freq --specs $(5) --models $$($(1)_LIST) --panel $(3)/panel.nc --out $(3)/freq)

$(3)/fits/%_$(6).nc: $(3)/panel.nc $$(call sums,model_code $(1)_specs)
	$$(call step,fit $$*,$$(CLI) fit --specs $(5) --model $$* --panel $(3)/panel.nc --out $(3)/fits $$($(1)_FIT_ARGS))

$$($(1)_SENS): $$($(1)_FITS) $$(call sums,report_code)
	$$(call step,prior sensitivity,$$(CLI) sensitivity --specs $(5) --model $$($(1)_SENS_MODEL) \
	  --panel $(3)/panel.nc --fits $(3)/fits --out $(3)/sensitivity $$($(1)_SENS_ARGS))

$$($(1)_REPORT): $$($(1)_FREQ) $$($(1)_FITS) $$($(1)_SENS) $$(call sums,report_code)
	$$(call step,report,$$(CLI) report --specs $(5) --model $$($(1)_LIST) --fits $(3)/fits --panel $(3)/panel.nc \
	  --freq $$($(1)_FREQ) --out $(3)/report --sensitivity $(3)/sensitivity --robustness $(3)/robustness \
	  --validate $(3)/validate --title "$(7)")

$(2): $$(VENV)/.installed
	@start=$$$$(date +%s); $$(MAKE) --no-print-directory $$($(1)_REPORT) && \
	echo "make $(2): finished in $$$$(( $$$$(date +%s) - start )) s; the report is $$($(1)_REPORT)"
endef

# The second study, Rahman (2026): defense cooperation agreements and coup attempts in country-years.
DCA_MODELS ?= dca1 dca2 dca3 dca4 dca5
DCA_SENS_MODEL ?= dca2
DCA_FIT_ARGS ?= --sampler nutpie --draws 1000 --tune 1000 --chains 2 --ess-min 1000 --retries 1 --target-accept 0.95
$(eval $(call study,DCA,dca,$(BUILD)/country_year,country_year,models/dca_models.toml,marginal,Defense cooperation agreements and coup attempts (Rahman 2026): Bayesian report))

# The third study, Kim & Woods (2022): the institutionalization of new pacts, ordinal models (State A's intercepts
# sampled: method plain); the group sd of about 50 states in 90 pacts needs long chains.
INST_MODELS ?= inst1 inst2 inst3
INST_SENS_MODEL ?= inst1
INST_FIT_ARGS ?= --sampler nutpie --draws 2500 --tune 1000 --chains 2 --ess-min 1000 --retries 1 --target-accept 0.95
INST_SENS_ARGS ?= --draws 4000 --tune 1000
$(eval $(call study,INST,institutions,$(BUILD)/institutions,pact,models/institutions_models.toml,plain,Alliance institutionalization and regime security (Kim & Woods 2022 extension): Bayesian report))

# Simulation-based calibration (models/calibration.toml) on the Model 4 and country-year designs, recovery at the
# saved Model 4 fit's posterior mean, the marginal MLE cross-check; cached per simulation, so a rerun fits only what
# is missing. The report adds the results when present.
VALIDATE_ARGS ?=

validate: $(PANEL) $(BUILD)/country_year/panel.nc $(BUILD)/fits/m4_marginal.nc
	$(call step,validate,$(CLI) validate --panel $(PANEL) --country-year-panel $(BUILD)/country_year/panel.nc \
	  --fits $(BUILD)/fits --out $(BUILD)/validate $(VALIDATE_ARGS))

# The prior predictive check of every packaged spec: the paper's models and every robustness variant on the dyad
# panel, the DCA and institutionalization studies on theirs; fails (after all three) if an observed value lies outside.
PRIOR_CHECK_ARGS ?=

prior-check: $(PANEL) $(DCA_PANEL) $(INST_PANEL)
	@status=0; \
	$(CLI) prior-check --models $(MODEL_LIST) --variants all --panel $(PANEL) --data-dir "$(DATA_DIR)" \
	  --out $(BUILD)/prior_check/paper $(PRIOR_CHECK_ARGS) || status=1; \
	$(CLI) prior-check --specs models/dca_models.toml --models all --panel $(DCA_PANEL) \
	  --out $(BUILD)/prior_check/country_year $(PRIOR_CHECK_ARGS) || status=1; \
	$(CLI) prior-check --specs models/institutions_models.toml --models all --panel $(INST_PANEL) \
	  --out $(BUILD)/prior_check/institutions $(PRIOR_CHECK_ARGS) || status=1; \
	exit $$status

# The results pages (docs/results/*.md) from whatever the build holds; builds nothing.
docs: $(VENV)/.installed
	$(CLI) results --build $(BUILD) --out docs/results

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
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=10 -m "not cluster and not slow"

# The end-to-end checks too long for `make test` (make all on a tiny panel, bit-identical fits in a subprocess,
# Dask refits against serial ones, the notebook, the numpyro sampler, a second recovery seed): run before a release
# or after changing the Makefile, the sampler or Dask code.
test-slow: $(VENV)/.installed
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=10 -m slow

# The slow cluster test: a real scheduler and two workers run a refit grid while one of them is killed.
test-cluster: $(VENV)/.installed
	$(PY) -m pytest -q -m cluster

# A Dask scheduler and CLUSTER_WORKERS workers as separate processes on this machine, for the fan-out commands'
# --scheduler (see docs/reliability.md for SLURM and Kubernetes); `make cluster-stop` ends them.
CLUSTER_WORKERS ?= 2
CLUSTER_PORT ?= 8786
cluster: $(VENV)/.installed
	$(CLI) cluster --workers $(CLUSTER_WORKERS) --port $(CLUSTER_PORT) --folder $(BUILD)/cluster

cluster-stop: $(VENV)/.installed
	$(CLI) cluster --stop --folder $(BUILD)/cluster

bench: $(VENV)/.installed $(PANEL)
	$(PY) -m benchmarks.panel_build --data-dir "$(DATA_DIR)" --out $(BUILD)/bench/panel_build.json
	$(PY) -m benchmarks.frequentist --panel $(PANEL) --out $(BUILD)/bench/frequentist.json
	$(PY) -m benchmarks.bayes --panel $(PANEL) --out $(BUILD)/bench/bayes.json
	$(CLI) robustness --no-bayes --panel $(PANEL) --data-dir "$(DATA_DIR)" --out $(BUILD)/bench/robustness
	$(PY) -m benchmarks.country_year --data-dir "$(DATA_DIR)" --out $(BUILD)/bench/country_year.json
	$(PY) -m benchmarks.your_data --panel $(PANEL) --out $(BUILD)/bench/your_data.json
	$(PY) -m benchmarks.centring --panel $(PANEL) --out $(BUILD)/bench/centring.json

FORCE:

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf $(VENV) *.egg-info
