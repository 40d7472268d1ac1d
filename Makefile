# The two front-door commands are `make run` and `make test`; both set everything up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
STAMP_RUN := $(VENV)/.installed-runtime
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: help run web test test-web test-mongo test-wire lint format bench loadtest client-test seed create-admin send-emails clean

help:
	@echo "make run         set up .venv, build the web app (Node 20.19+), serve the shop on HOST:PORT"
	@echo "make test        set up .venv with dev tools and run the whole test suite"
	@echo "make test-web    the web app: tsc, Vitest, then Playwright journeys in Chromium"
	@echo "make web         build the web app if its sources changed (what make run does first)"
	@echo "make test-mongo  the same suite against MONGODB_URI (a MongoDB replica set)"
	@echo "make test-wire   the same suite over the wire protocol, on a SecantusDB it starts"
	@echo "make lint        ruff check + ruff format --check, import contracts, mypy"
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

# The web app (web/: storefront at /, admin at /admin) is built with Node.js 20.19+ and npm
# when its sources, its lock file or the API's code changed (the stamp files). Without Node,
# or when the build fails, `make run` says so and serves the API alone. The dependencies'
# stamp is the file npm ci writes itself, so any npm ci (make test-web's too) counts.
WEB_STAMP    := web/dist/.build-stamp
WEB_DEPS     := web/node_modules/.package-lock.json
WEB_SOURCES  := $(shell find web/src web/public web/scripts -type f 2>/dev/null) \
                web/index.html web/vite.config.ts web/tsconfig.json web/package.json \
                $(shell find app -name '*.py' 2>/dev/null) config.py

$(WEB_DEPS): web/package.json web/package-lock.json
	@echo ">> npm ci in web/ (the versions in package-lock.json)"
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB_STAMP): $(WEB_DEPS) $(WEB_SOURCES) | $(STAMP_RUN)
	@echo ">> building the web app (types from the app's OpenAPI, tsc, vite build)"
	cd web && PYTHON=$(abspath $(PY)) npm run --silent build
	@touch $@

web: $(STAMP_RUN)
	@if ! scripts/node-ok; then \
	  echo ">> the web app (storefront at /, admin at /admin) needs Node.js 20.19+ and npm:"; \
	  echo ">> install them (Debian: apt-get install nodejs npm) and run make again."; \
	  echo ">> Serving the API alone (/api/v1, /docs)."; \
	elif ! $(MAKE) -s --no-print-directory $(WEB_STAMP); then \
	  echo ">> the web app failed to build (above); serving the API$$(test -f web/dist/index.html && echo ' and the last build' || echo ' alone')."; \
	fi

run: $(STAMP_RUN) web
	@echo ">> serving the shop (one process: the embedded engine lives in memory; Ctrl-C stops)"
	$(PY) -m app.serve

test: $(STAMP_DEV) $(STAMP_STRIPE)
	@echo ">> running the test suite"
	$(PY) -m pytest $(PYTEST_ARGS)

# Chromium from Debian's packages when missing; see web/tests/run.py.
test-web: $(STAMP_DEV)
	$(PY) web/tests/run.py

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
	@echo ">> import contracts (import-linter, [tool.importlinter] in pyproject.toml)"
	$(VENV)/bin/lint-imports
	@echo ">> type check (mypy, [tool.mypy] in pyproject.toml)"
	$(VENV)/bin/mypy

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
	@echo ">> benchmark over HTTP with wrk (about 8 minutes; writes bench/out/latest.md)"
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
	rm -rf $(VENV) $(STRIPE_VENV) $(VENV_BENCH) .venv-wire .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
