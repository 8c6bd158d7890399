# One command per habit. Everything runs inside .venv, made on first use.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
PG_URL  ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
# Tests use both cores; each pytest worker gets its own database.
WORKERS ?= 2

.PHONY: install lock upgrade demo test lint typecheck test-sqlite test-postgres services bench bench-instructions docs clean

# Installs exactly the versions in requirements/lock.txt (hashes checked), then the project
# itself without resolving anything: two installs from the same lock are the same.
$(BIN)/abusedesk: pyproject.toml requirements/lock.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

install: $(BIN)/abusedesk

# Rewrites the lock after a change of pyproject's dependencies, keeping locked versions that fit.
lock: install
	UV=$(BIN)/uv bash scripts/lock.sh

# A deliberate upgrade: the newest versions the bounds allow, installed, then the whole suite.
# Commit requirements/lock.txt only if `make test` passes.
upgrade: install
	UV=$(BIN)/uv UPGRADE=1 bash scripts/lock.sh
	$(MAKE) test

demo: install
	$(BIN)/abusedesk demo

# The test command of the README: lint, strict typing, then every test on SQLite, then every
# test that touches the store again on PostgreSQL (needs the server; `make services` starts it).
test: install lint typecheck test-sqlite test-postgres

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

test-sqlite: install
	$(BIN)/pytest -n $(WORKERS) -q

test-postgres: install services
	ABUSEDESK_TEST_DATABASE=postgresql ABUSEDESK_TEST_PG_URL=$(PG_URL) $(BIN)/pytest -n $(WORKERS) -q -m db

services:
	@bash scripts/services.sh

# Each prints one JSON line of figures; none asserts a time.
bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/decisions.py
	$(BIN)/python bench/features.py
	$(BIN)/python bench/enrich.py
	$(BIN)/python bench/sim.py

# Detection cost in CPU instructions per event (callgrind): stable where wall-clock figures drift.
# Needs valgrind; a few minutes.
bench-instructions: install
	$(BIN)/python bench/instructions.py

docs: install
	$(BIN)/python -m abusedesk.settings > docs/settings.md

clean:
	rm -rf $(VENV) .abusedesk .mypy_cache .ruff_cache .pytest_cache
