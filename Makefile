VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
export TUOGUAN_DATABASE_URL ?= sqlite:///./var/tuoguan.db
# Test files run on this many workers (pytest-xdist; each has its own PostgreSQL database): one
# more than the cores, since the browser tests wait on Chromium and their servers much of the
# time; three at least (two cores), eight at most.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); n=$$((n + 1)); [ $$n -lt 3 ] && n=3; [ $$n -gt 8 ] && n=8; echo $$n)

.PHONY: run test lint typecheck bench clean install

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e '.[test]'
	touch $@ $(STAMP)

install: $(STAMP)

## make run: install, migrate the embedded SQLite database, load the demo, serve on 127.0.0.1:8000
## (with the sandbox carrier on 127.0.0.1:8001, which the outbound guard is told to allow), in the
## foreground until Ctrl-C. Another instance beside it takes its own database and ports:
## make run TUOGUAN_DATABASE_URL=sqlite:///./var/second.db TUOGUAN_PORT=8100 \
##          TUOGUAN_SANDBOX_CARRIER_URL=http://127.0.0.1:8101
run: export TUOGUAN_OUTBOUND_ALLOW ?= 127.0.0.1,localhost
run: export TUOGUAN_HOST ?= 127.0.0.1
run: export TUOGUAN_PORT ?= 8000
run: export TUOGUAN_SANDBOX_CARRIER_URL ?= http://127.0.0.1:8001
run: $(STAMP)
	$(VENV)/bin/tuoguan db upgrade
	$(VENV)/bin/tuoguan demo load --if-empty
	$(VENV)/bin/tuoguan carrier-sandbox & trap 'kill $$!' EXIT; $(VENV)/bin/tuoguan serve

## make test: install the test extras and run every test (PostgreSQL too when TUOGUAN_TEST_PG_URL is set)
test: $(TEST_STAMP)
	$(VENV)/bin/ruff check src tests bench migrations
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check src tests bench migrations

typecheck: $(TEST_STAMP)
	$(VENV)/bin/mypy

bench: $(TEST_STAMP)
	$(PY) bench/orders.py --load
	$(PY) bench/sla.py
	$(PY) bench/labels.py
	$(PY) bench/reads.py --keep var/bench-reads
	$(PY) bench/stock.py
	$(PY) bench/ledger.py
	$(PY) bench/cases.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
