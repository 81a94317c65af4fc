# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The server command is the Procfile's web line, so development runs what production runs.
WEB := $(shell sed -n 's/^web: //p' Procfile)
WORKER := $(shell sed -n 's/^worker: //p' Procfile)

.PHONY: run test services chromium shell lint format check-deploy clean bench bench-history bench-upload bench-export bench-render screenshots

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.base-installed: requirements/base.txt | $(PY)
	$(PY) -m pip install -q -r requirements/base.txt
	touch $@

$(VENV)/.dev-installed: requirements/dev.txt requirements/base.txt | $(PY)
	$(PY) -m pip install -q -r requirements/dev.txt
	touch $@ $(VENV)/.base-installed

## run: set up and serve the app on http://127.0.0.1:8000 with demo data
run:
	@if [ -n "$$DATABASE_URL" ]; then echo "Database: DATABASE_URL (Postgres)"; \
	  else echo "Database: embedded SQLite file db.sqlite3 (set DATABASE_URL for Postgres)"; fi
	@if [ -n "$$REDIS_URL" ]; then echo "Channel layer: Redis (REDIS_URL)"; \
	  else echo "Channel layer: in-memory, one process (set REDIS_URL for Redis)"; fi
	@$(MAKE) --no-print-directory $(VENV)/.base-installed
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 $(PY) manage.py vapid_keys --if-missing
	@echo "Serving on http://$(HOST):$(PORT)/, with the background worker beside it"
	DEBUG=1 HOST=$(HOST) PORT=$(PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
	  sh -c '$(WORKER) & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; $(WEB)'

## test: set up and run every test against real Postgres, Redis and Chromium
test: $(VENV)/.dev-installed services chromium
	$(VENV)/bin/pytest

services:
	@bash .ci/services

chromium:
	@bash .ci/chromium

shell: $(VENV)/.base-installed
	DEBUG=1 $(PY) manage.py shell

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: fan-out benchmark, ours against the Channels tutorial consumer (docs/performance.md)
##   e.g. make bench BENCH_ARGS="--scenario ramp --processes 1,2"
bench: $(VENV)/.dev-installed services
	$(PY) -m bench.fanout $(BENCH_ARGS)

## bench-upload: peak memory of a server process receiving files of 1, 5 and 25 MiB
bench-upload: $(VENV)/.dev-installed services
	$(PY) -m bench.upload $(BENCH_ARGS)

## bench-export: peak memory of manage.py export_room over rooms of 10,000, 100,000 and 1,000,000 messages
bench-export: $(VENV)/.dev-installed services
	$(PY) -m bench.export $(BENCH_ARGS)

## bench-render: a message fragment's render time, plain and with replies, reactions and a link card
bench-render: $(VENV)/.dev-installed services
	$(PY) -m bench.render $(BENCH_ARGS)

## bench-history: history pages, catch-up, search and admin list over 1,000,000 messages
bench-history: $(VENV)/.dev-installed services
	$(PY) -m bench.history $(BENCH_ARGS)

## screenshots: the main pages in Chromium (desktop and phone, light and dark) into docs/screenshots/
screenshots: $(VENV)/.dev-installed services chromium
	$(VENV)/bin/pytest -q tests/browser/screenshots.py

## check-deploy: Django's deployment checklist with production settings
check-deploy: $(VENV)/.base-installed
	DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=chat.example.com \
	  DATABASE_URL=postgres://postgres@127.0.0.1:5432/chat REDIS_URL=redis://127.0.0.1:6379/0 \
	  $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
