# SES Console. `make demo` runs the console with demo data; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# These targets run on a development machine: with no SECRET_KEY set they use a public
# development key (the settings refuse to start without one; see docs/operations.md).
export SECRET_KEY ?= insecure-development-key-never-use-in-production
PORT ?= 8000
SMTP_PORT ?= 1025

.PHONY: demo test lint format migrate serve worker bench clean install chromium

demo: install  ## set up, create demo data, serve on http://127.0.0.1:$(PORT) with worker and beat (make demo PORT=8080 SMTP_PORT=2525)
	PORT=$(PORT) SMTP_PORT=$(SMTP_PORT) scripts/demo.sh

test: install chromium  ## set up and run lint, migration checks and the whole suite
	scripts/test.sh

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

chromium:  ## Debian's Chromium, for the browser tests
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; \
	  fi; }

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: install
	$(PY) manage.py migrate

serve: install
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

worker: install
	$(VENV)/bin/celery -A sesconsole worker -B -Q celery,notifications -l info

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules var staticfiles .pytest_cache .ruff_cache
