# promisedesk: `make run` to try it, `make test` to check it. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/promisedesk

.PHONY: install run test test-postgres lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/promisedesk migrate --noinput
	$(BIN)/promisedesk demo
	$(BIN)/promisedesk serve

test: $(STAMP)
	$(BIN)/python -m pytest -q
	@if [ -n "$$PROMISEDESK_TEST_POSTGRES" ]; then $(MAKE) --no-print-directory test-postgres; fi

# The concurrency-critical tests (sweeper, idempotent intake, exactly-once) again on PostgreSQL.
test-postgres: $(STAMP)
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/python -m pytest -q -m postgres

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy promisedesk

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) var
