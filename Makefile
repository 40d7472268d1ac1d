# The two front-door commands are `make run` and `make test`; both set everything up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
STAMP_RUN := $(VENV)/.installed-runtime
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: help run test test-mongo test-wire lint format bench loadtest client-test seed create-admin send-emails clean

help:
	@echo "make run         set up .venv and serve the shop on HOST:PORT (default 127.0.0.1:8000)"
	@echo "make test        set up .venv with dev tools and run the whole test suite"
	@echo "make test-mongo  the same suite against MONGODB_URI (a MongoDB replica set)"
	@echo "make test-wire   the same suite over the wire protocol, on a SecantusDB it starts"
	@echo "make lint        ruff check + ruff format --check"
	@echo "make bench       the benchmark over HTTP (wrk): writes bench/out/latest.md and a chart"
	@echo "make loadtest    concurrent checkouts, logins under reads, webhook storm, SIGKILL fault run"
	@echo "make client-test a TypeScript client generated from /openapi.json walks a live server"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@echo ">> creating virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)

$(STAMP_RUN): requirements.txt | $(PY)
	@echo ">> installing runtime dependencies"
	$(PIP) install -q -r requirements.txt
	@touch $@

$(STAMP_DEV): requirements.txt requirements-dev.txt | $(PY)
	@echo ">> installing runtime and development dependencies"
	$(PIP) install -q -r requirements-dev.txt
	@touch $@ $(STAMP_RUN)

# localstripe, the Stripe emulator of the payment tests, in a virtual environment of its own
# (GPL-3.0, and aiohttp the app does not use). Not fatal: without it those tests skip, saying why.
STRIPE_VENV  := .venv-stripe
STAMP_STRIPE := $(STRIPE_VENV)/.installed
$(STAMP_STRIPE): requirements-localstripe.txt
	@echo ">> installing localstripe (the Stripe emulator for the tests) in $(STRIPE_VENV)"
	@{ $(PYTHON) -m venv $(STRIPE_VENV) \
	  && $(STRIPE_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-localstripe.txt \
	  && touch $@; } || echo ">> localstripe could not be installed: the Stripe emulator tests will skip"

run: $(STAMP_RUN)
	@echo ">> serving the shop (one process: the embedded engine lives in memory; Ctrl-C stops)"
	$(PY) -m app.serve

test: $(STAMP_DEV) $(STAMP_STRIPE)
	@echo ">> running the test suite"
	$(PY) -m pytest $(PYTEST_ARGS)

test-mongo: $(STAMP_DEV) $(STAMP_STRIPE)
	@test -n "$(MONGODB_URI)" || { echo "set MONGODB_URI to a MongoDB replica set, e.g. mongodb://localhost:27017/?replicaSet=rs0"; exit 2; }
	@echo ">> running the test suite against $$MONGODB_URI"
	MONGODB_URI="$(MONGODB_URI)" $(PY) -m pytest $(PYTEST_ARGS)

# The real driver path: PyMongo against a wire-protocol replica set (SecantusDB, in its own
# .venv-wire, on a free loopback port, stopped whatever happens). See scripts/test-wire.
test-wire:
	@PYTHON=$(PYTHON) scripts/test-wire

lint: $(STAMP_DEV)
	@echo ">> ruff check and format check"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP_DEV)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The benchmark keeps its own venv: it adds other servers, matplotlib and a profiler.
VENV_BENCH  := .venv-bench
STAMP_BENCH := $(VENV_BENCH)/.installed-bench

$(STAMP_BENCH): requirements.txt requirements-bench.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@echo ">> installing the benchmark's dependencies in $(VENV_BENCH)"
	test -x $(VENV_BENCH)/bin/python || $(PYTHON) -m venv $(VENV_BENCH)
	$(VENV_BENCH)/bin/python -m pip --disable-pip-version-check install -q -r requirements-bench.txt
	@touch $@

bench: $(STAMP_BENCH)
	@echo ">> benchmark over HTTP with wrk (about 5 minutes; writes bench/out/latest.md)"
	$(VENV_BENCH)/bin/python -m bench $(BENCH_ARGS)

loadtest: $(STAMP_DEV)
	@echo ">> load test (live servers on 127.0.0.1: embedded engine; the fault run on its own SecantusDB)"
	$(PY) -m loadtest

# Node and npm from Debian's packages when missing; see clients/typescript/run.py.
client-test: $(STAMP_RUN)
	$(PY) clients/typescript/run.py

seed: $(STAMP_RUN)
	QUART_APP=wsgi:app $(VENV)/bin/quart seed

create-admin: $(STAMP_RUN)
	QUART_APP=wsgi:app $(VENV)/bin/quart create-admin

send-emails: $(STAMP_RUN)
	QUART_APP=wsgi:app $(VENV)/bin/quart send-emails

clean:
	rm -rf $(VENV) $(STRIPE_VENV) $(VENV_BENCH) .venv-wire .pytest_cache .ruff_cache
