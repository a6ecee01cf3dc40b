# 学区认证 — developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
BENCH_REPETITIONS ?= 3
# pytest-xdist: one worker per CPU, whole test files to one worker (README: Tests). `make test PYTEST_WORKERS=` runs serially.
PYTEST_WORKERS ?= -n auto --dist loadfile

.DEFAULT_GOAL := help

.PHONY: help demo setup-demo serve test pytest-workers lint format ci bench clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

setup-demo: $(VENV)/.runtime
	$(PY) manage.py compile_catalogue
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

demo: setup-demo ## Set up (virtualenv, install, migrate, standards and demo data) and serve the demo on 127.0.0.1:8000
	$(PY) manage.py runserver $(HOST):$(PORT)

serve: $(VENV)/.runtime ## Production server: migrate, collect static files, run gunicorn on HOST:PORT (README: Production)
	$(PY) manage.py compile_catalogue
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput
	BIND=$(HOST):$(PORT) $(VENV)/bin/gunicorn -c project/gunicorn.conf.py project.wsgi

test: $(VENV)/.dev ## Set up and run every check: manage.py check, migrations, ruff, import contracts, pytest
	$(PY) manage.py compile_catalogue
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

pytest-workers: # what .ci/run passes to its PostgreSQL pass too
	@printf '%s\n' '$(PYTEST_WORKERS)'

lint: $(VENV)/.dev ## ruff lint and format check, import-linter's layer contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.dev ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

ci: ## What CI runs: the tests on SQLite, then again on PostgreSQL and Redis
	bash .ci/run

bench: $(VENV)/.dev ## Benchmarks: import, export (ABAB against openpyxl alone) computed indicators (against a bare load) and a task transition (against a bare viewflow task); server memory and load (PostgreSQL)
	$(PY) manage.py compile_catalogue
	$(PY) -m bench.abab $(BENCH_REPETITIONS) bench.import_roster bench.export bench.computed bench.transition
	$(PY) -m bench

clean: ## Remove the virtualenv, the SQLite database, uploads and its audit anchor files
	rm -rf $(VENV) db.sqlite3 media staticfiles audit-anchors
