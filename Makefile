SHELL := /bin/bash
# A failing command inside a multi-command recipe line must fail the target.
.SHELLFLAGS := -e -o pipefail -c

VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Only projects with JavaScript tooling need npm; without package.json skip it.
NODE_DEPS := $(if $(wildcard package.json),node_modules)
# Files starting with "_" are helpers, not benchmarks.
BENCHES := $(sort $(filter-out bench/_%,$(wildcard bench/*.py)))

.PHONY: run test lint fmt bench reliability screenshots clean

$(PY):
	python3 -m venv $(VENV)

# urllib3-future (caldav -> niquests) is built from source without the copy of
# itself it would write over the real urllib3 (requirements.txt). No wheel
# cache: a wheel cached from a build without this variable would bring it back.
export URLLIB3_NO_OVERRIDE := 1
PIP_INSTALL := $(PY) -m pip install --no-cache-dir

# Stamps make reinstalling happen only when a requirements file changes.
$(VENV)/.run-installed: requirements.txt | $(PY)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements.txt | $(PY)
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

node_modules: package.json $(wildcard package-lock.json)
	if [ -f package-lock.json ]; then npm ci; else npm install; fi
	touch $@

# The embedded defaults (SQLite, filesystem broker) apply only in debug mode;
# a value the user already exported wins.
run: export DJANGO_DEBUG ?= true
run: $(VENV)/.run-installed
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "A patient's booking page (no login): $$($(PY) manage.py booking_link)"
	PY=$(PY) bin/run-demo

# The suite runs in TEST_WORKERS processes (pytest-xdist), each on a test
# database of its own: most tests wait on a browser, a worker, a server or the
# database rather than on the CPU, so more processes than cores pay. 0: one.
TEST_WORKERS ?= 4
test: $(VENV)/.dev-installed $(NODE_DEPS)
	mkdir -p var
	url=$$($(PY) -m tests.locate_services) && DATABASE_URL="$$url" $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run

fmt: $(VENV)/.dev-installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Runs every benchmark even after a failure, then fails if any did.
bench: $(VENV)/.dev-installed
	mkdir -p var
	url=$$($(PY) -m tests.locate_services); failed=""; \
	for f in $(BENCHES); do \
		echo "== $$f"; \
		DATABASE_URL="$$url" PYTHONPATH=. $(PY) "$$f" || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then echo "failed:$$failed" >&2; exit 1; fi

# Fault and load tests at full length (LOAD_SECONDS=60): one table, then
# lost=0 double_bookings=0 server_errors=0 feed_vs_static=<x> (bin/reliability.py).
reliability: $(VENV)/.dev-installed
	mkdir -p var
	url=$$($(PY) -m tests.locate_services) && DATABASE_URL="$$url" $(PY) bin/reliability.py

# The README's pictures, from a throwaway demo clinic (bin/screenshots.py).
screenshots: $(VENV)/.dev-installed
	mkdir -p var
	$(PY) bin/screenshots.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .hypothesis staticfiles
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +
