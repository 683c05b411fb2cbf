# The two commands of the README: `make run` (the product, on SQLite, with a demo site)
# and `make test` (the docs site built with --strict, then the whole suite on SQLite and
# PostgreSQL, browser tests included).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DEMO_SITE ?= demo.example.com
export BEACON_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test venv dev-venv lint bench-ingest bench-analysis bench-dashboard bench-bots bench-log-import clean

# Installs the versions pinned in requirements.lock (a constraint: what the project
# needs, at exactly the locked version); current pip, setuptools and wheel in the venv
# (re-run when this file changes, so existing venvs get them too).
$(BIN)/beacon: pyproject.toml requirements.lock Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -c requirements.lock -e .
	touch $@

venv: $(BIN)/beacon

dev-venv: venv
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'

run: venv
	$(BIN)/beacon migrate
	$(BIN)/beacon demo $(DEMO_SITE) --days 30 --events 60000 --quiet
	$(BIN)/beacon first-admin admin@example.com
	$(BIN)/beacon serve

test: dev-venv
	# no --quiet here: it hides the warnings that --strict turns into a failure
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir test-artifacts/site
	scripts/test-services.sh
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider
	scripts/audit.sh $(BIN)

lint: dev-venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench-ingest: dev-venv
	$(BIN)/python bench/ingest_bench.py

bench-analysis: dev-venv
	$(BIN)/python bench/analysis_bench.py

bench-dashboard: dev-venv
	$(BIN)/python bench/dashboard_bench.py

bench-bots: dev-venv
	$(BIN)/python bench/bots_bench.py

bench-log-import: dev-venv
	$(BIN)/python bench/log_import_bench.py

clean:
	rm -rf $(VENV) data test-artifacts
