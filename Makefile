# goalwatch — the two commands: `make demo` and `make test`. Supported Python: 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-pip.lock requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)

# The demo's Airflow and state live in the project, away from any ~/airflow.
demo up: export AIRFLOW_HOME := $(CURDIR)/.airflow
demo up: export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
demo up: export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
demo up: export AIRFLOW__CORE__LOAD_EXAMPLES := False
demo up: export GOALWATCH_HOME := $(CURDIR)/.goalwatch
demo up: export GOALWATCH_CONFIG := $(CURDIR)/config/goals.yml
# The demo warehouse ends on 2026-11-15, so its ingest runs are triggered, not scheduled.
demo up: export GOALWATCH_INGEST_SCHEDULE := none

.PHONY: install lock demo up stack test lint clean

install: $(STAMP)

$(STAMP): requirements-pip.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# A recent pip first: older ones reject hashed locks whose packages carry extras (celery[redis]).
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-pip.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-* && touch $@

# Regenerate the hashed locks from the direct requirements in requirements*.in: the runtime lock
# (what the image installs), then the development lock on top of it, with the same versions.
lock: install
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes --allow-unsafe \
		requirements-pip.in -o requirements-pip.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes --no-strip-extras \
		requirements.in -o requirements.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes --no-strip-extras \
		-c requirements.lock requirements-dev.in -o requirements-dev.lock

demo: install
	@rm -rf .goalwatch/store.db .goalwatch/outbox .airflow/airflow.db
	@echo "== seeding the demo warehouse"
	@$(BIN)/goalwatch demo seed
	@echo "== initialising Airflow in $(AIRFLOW_HOME)"
	@$(BIN)/airflow db migrate > /dev/null
	@$(BIN)/airflow connections add goalwatch_warehouse --conn-type sqlite \
		--conn-host $(CURDIR)/.goalwatch/demo/warehouse.db > /dev/null
	@echo "== running ingest -> asset event -> evaluate through the Airflow scheduler"
	@$(BIN)/goalwatch demo run
	@echo "== the alerts"
	@$(BIN)/goalwatch outbox show
	@echo "The alerts' chat.postMessage payloads are in $(CURDIR)/.goalwatch/outbox"
	@echo "Keep Airflow running with the UI on http://localhost:8080: make up"

up: install
	@test -f .airflow/airflow.db || { echo "run 'make demo' first"; exit 1; }
	$(BIN)/goalwatch demo up --port 8080

# The production topology as local processes: Postgres, Redis, Airflow with Celery and FAB login,
# on 127.0.0.1 until Ctrl-C (state in .stack/, removed databases on stop). Secrets from .env.
stack: install
	$(BIN)/goalwatch dev stack --port 8080

test: install
	$(BIN)/pytest

# The checks `make test` runs first (tests/project/test_code.py), alone: lint, format, layering.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf .goalwatch .airflow .stack
