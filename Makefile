# zwadmin: `make run` serves the console with demo data on SQLite; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run serve test lint fmt check clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(STAMP)

# The console on http://127.0.0.1:8000/admin/ with the demo customers, always on the embedded SQLite file.
run: install
	env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --no-input
	env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=1 $(BIN)/python manage.py load_demo
	env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=1 $(BIN)/python manage.py demo_admin
	env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

# The production stack on http://127.0.0.1:8000 (PORT): production settings, collectstatic, granian as
# zwadmin/serve.py starts it. SQLite unless DATABASE_URL is set; a throwaway secret key unless DJANGO_SECRET_KEY is set.
# Plain HTTP on localhost, so the HTTPS redirect and Secure cookies are off unless set (docs/deployment.md).
serve: install
	@set -e; unset DJANGO_DEBUG; \
	export DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')}"; \
	export DJANGO_ALLOWED_HOSTS="$${DJANGO_ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}"; \
	export DJANGO_NUM_PROXIES="$${DJANGO_NUM_PROXIES:-0}"; \
	export DJANGO_SECURE_SSL_REDIRECT="$${DJANGO_SECURE_SSL_REDIRECT:-0}"; \
	export DJANGO_SECURE_COOKIES="$${DJANGO_SECURE_COOKIES:-0}"; \
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0; \
	$(BIN)/python manage.py migrate --no-input; \
	echo "Serving on http://127.0.0.1:$${PORT:-8000}/ (health: /healthz); a console login: DJANGO_DEBUG=1 .venv/bin/python manage.py demo_admin"; \
	exec $(BIN)/python -m zwadmin.serve

# The whole suite; on PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # the layers of docs/ARCHITECTURE.md (pyproject.toml): an upward import fails

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: install
	DJANGO_DEBUG=1 $(BIN)/python manage.py check
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# The Chinese catalog (locale/zh_Hans, the console's default language; needs GNU gettext). `make messages`
# collects the code's strings into django.po and compiles django.mo: translate what it added (no empty or
# fuzzy entry), run it again, commit both. `make check-messages` (CI) fails when they have drifted from the code.
.PHONY: messages check-messages
MAKEMESSAGES_IGNORE := --ignore ".venv/*" --ignore "bench/*" --ignore "staticfiles/*" --ignore "artifacts/*"
messages: install
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans -d django --no-obsolete $(MAKEMESSAGES_IGNORE)
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans -d djangojs --no-obsolete $(MAKEMESSAGES_IGNORE)
	DJANGO_DEBUG=1 $(BIN)/python manage.py compilemessages -l zh_Hans $(MAKEMESSAGES_IGNORE)
	@msgfmt --statistics -o /dev/null locale/zh_Hans/LC_MESSAGES/django.po  # "… untranslated": not done yet

check-messages: install
	$(BIN)/python bin/check-translations

# Benchmarks against the targets of docs/performance.md: PostgreSQL and Redis on this machine (started when down),
# wrk (installed from Debian when missing and root). Drops and recreates the database zwadmin_bench
# (BENCH_DATABASE_URL, BENCH_REDIS_URL to give a run its own); prints the table, writes it as JSON under
# artifacts/ and, after a full run, into docs/performance.md (commit it). BENCH_ARGS="--rounds 9" or
# "--only serving,ingest" to vary it (a partial run leaves docs/performance.md alone); "--capacity" adds the
# capacity of one node (5-minute fleet runs, about an hour).
bench: install
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk) >/dev/null; } || \
		{ echo "make bench needs wrk: apt-get install wrk" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
