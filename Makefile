# Vigil: `make run` starts a demo on this machine, `make test` runs the whole suite.
# Nothing but Python 3.11+ is needed: the first run builds .venv from requirements.lock.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= python3
PORT ?= 8000
# Celery worker and beat log level under `make run` (make run LOGLEVEL=INFO to see every task).
LOGLEVEL ?= WARNING
PYTEST_ARGS ?=

BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
CELERY := $(BIN)/celery -A config
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

# `make lock` resolves against the public index only: machine-local mirrors and wheel folders
# in a pip config could otherwise leave hashes in the lock that a fresh machine never sees.
LOCK_ENV ?= env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null

.PHONY: help install run browser test bench bench-smoke check-deploy lock clean

help:
	@echo "make run           install, migrate, seed demo data, start web + Celery worker + beat (Ctrl-C stops all)"
	@echo "make test          install, make sure Chromium is there, run the test suite (PYTEST_ARGS=... to narrow)"
	@echo "make bench         run the benchmarks (make bench-smoke: a quick pass)"
	@echo "make check-deploy  Django's deployment checks with an example production environment"
	@echo "make lock          regenerate requirements.lock from pyproject.toml"
	@echo "make clean         remove var/ (database, broker files) and .venv"

install: $(STAMP)

# Re-installs only when the lock changes, so repeated runs are instant.
$(STAMP): requirements.lock
	@if [ ! -x $(BIN)/python ]; then \
	  echo "Creating $(VENV) with $$($(PYTHON) --version 2>&1)"; \
	  $(PYTHON) -m venv $(VENV) || { echo "Could not create a virtualenv with $(PYTHON) (on Debian/Ubuntu: apt-get install python3-venv)." >&2; exit 1; }; \
	fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	@touch $@

# Web, worker and beat run side by side. Ctrl-C or SIGTERM (or any one of them exiting) stops
# the other two, and make returns only once all three are gone. The worker runs its tasks in its
# own process (--pool=solo): no pool children to outlive it. Whatever has not stopped 3 s after
# the signal is killed (a task cut short is sent again by the outbox sweeper).
# Each message sent prints one line; the messages themselves are in var/mail/ (VIGIL_MAIL_DIR).
# Once the web server answers, the login is printed again, below the start-up lines.
run: export DJANGO_DEBUG := 1
run: export VIGIL_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo --base-url http://127.0.0.1:$(PORT)
	$(MANAGE) seed_comms_demo
	$(MANAGE) seed_postmortems_demo
	@echo "Starting web on http://127.0.0.1:$(PORT)/, a Celery worker and beat (log level $(LOGLEVEL)). Ctrl-C stops all three."
	@trap 'trap - INT TERM EXIT; kill $$(jobs -p) 2>/dev/null; \
	  for _ in 1 2 3 4 5 6; do [ -z "$$(jobs -rp)" ] && break; sleep 0.5; done; \
	  kill -KILL $$(jobs -rp) 2>/dev/null; wait' INT TERM EXIT; \
	$(MANAGE) runserver 127.0.0.1:$(PORT) & \
	$(CELERY) --quiet worker -Q default,paging --pool=solo --without-mingle --without-gossip --loglevel=$(LOGLEVEL) & \
	$(CELERY) --quiet beat --loglevel=$(LOGLEVEL) & \
	for _ in $$(seq 120); do \
	  (: </dev/tcp/127.0.0.1/$(PORT)) 2>/dev/null && break; \
	  [ "$$(jobs -rp | wc -l)" -eq 3 ] || break; \
	  sleep 0.5; \
	done; \
	if (: </dev/tcp/127.0.0.1/$(PORT)) 2>/dev/null; then \
	  echo; $(MANAGE) seed_demo --logins-only --base-url http://127.0.0.1:$(PORT); \
	  echo "Messages sent: one line each here; the messages themselves in $${VIGIL_MAIL_DIR:-$${VIGIL_VAR_DIR:-var}/mail}/. Ctrl-C stops all three."; \
	fi; \
	wait -n

# Browser tests drive Debian's Chromium (never a browser downloaded by playwright).
browser:
	@if [ -x $(CHROMIUM) ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "NOTE: $(CHROMIUM) is missing and the browser tests need it."; \
	  echo "      Install it with: sudo apt-get install chromium"; \
	fi

# DATABASE_URL / REDIS_URL from the environment select PostgreSQL and Redis; unset, SQLite.
test: install browser
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py

bench-smoke: install
	$(BIN)/python bench/run.py --smoke

check-deploy: install
	DJANGO_DEBUG=0 \
	DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
	DJANGO_ALLOWED_HOSTS=vigil.example.com \
	$(MANAGE) check --deploy --fail-level WARNING

lock:
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@[ -x $(BIN)/pip-compile ] || $(BIN)/python -m pip install --quiet pip-tools
	$(LOCK_ENV) $(BIN)/pip-compile --quiet --generate-hashes --extra dev --strip-extras \
	  --no-emit-index-url --no-emit-find-links --allow-unsafe -o requirements.lock pyproject.toml

clean:
	rm -rf var $(VENV)
