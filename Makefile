# promisedesk: `make run` to try it, `make test` to check it. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/promisedesk

.PHONY: install run test test-postgres lint bench messages clean

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

# Apps with a locale/ folder of their own keep their messages there; the project's file has the rest.
OWN_LOCALE_APPS := $(patsubst promisedesk/%/locale,%,$(wildcard promisedesk/*/locale))
messages: $(STAMP)
	$(BIN)/promisedesk makemessages -l zh_Hans --no-obsolete --ignore='.venv/*' --ignore='var/*' $(foreach app,$(OWN_LOCALE_APPS),--ignore='promisedesk/$(app)/*')
	for app in $(OWN_LOCALE_APPS); do (cd promisedesk/$$app && ../../$(BIN)/promisedesk makemessages -l zh_Hans --no-obsolete) || exit 1; done
	$(BIN)/promisedesk compilemessages --ignore='.venv/*'

clean:
	rm -rf $(VENV) var
