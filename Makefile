# Two commands for a fresh machine: `make run` and `make test`.
# The virtualenv is created once and reinstalled only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
RUN_ARGS ?=
BABEL_EXTRACT := -k _l -k lazy_gettext --ignore-dirs ".* __pycache__ node_modules .venv"

.PHONY: run test lint bench translations venv clean

run: $(STAMP)  ## upgrade the database, load demo data into an empty club, start web + worker + cron
	$(BIN)/vafa run $(RUN_ARGS)

test: $(STAMP)  ## the whole suite, browser tests included
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check webapp games tests bench

# summary.py measures pages.py and purchases.py at both sizes (vafa_bench_10k and
# vafa_bench_100k on DATABASE_URL's server); serve.py, floor_app.py and the seeders are theirs
BENCH_SHARED = bench/summary.py bench/pages.py bench/purchases.py bench/serve.py bench/floor_app.py \
	bench/seed_members.py bench/seed_club.py bench/pg_bench.py

bench: $(STAMP)  ## needs DATABASE_URL (PostgreSQL) and wrk
	$(BIN)/python bench/summary.py $(BENCH_ARGS)
	@for script in $(filter-out $(BENCH_SHARED),$(wildcard bench/*.py)); do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

translations: $(STAMP)  ## extract, update and compile both catalogs (members, staff)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_EXTRACT) -o webapp/translations/messages.pot .
	$(BIN)/pybabel update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d webapp/translations --statistics
	$(BIN)/pybabel extract -F webapp/admin/babel.cfg $(BABEL_EXTRACT) -o webapp/admin/translations/messages.pot .
	$(BIN)/pybabel update -i webapp/admin/translations/messages.pot -d webapp/admin/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d webapp/admin/translations --statistics

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

clean:  ## remove the virtualenv and caches (keeps instance/, your data)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
