# Every target sets up what it needs from nothing: python3 -m venv, pip, npm.
# The README's two commands are `make site` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP_FLAGS := --quiet --disable-pip-version-check --no-input
# `make site` builds with both cores; DROPOUT_FIGS_JOBS overrides.
export MPLBACKEND := Agg
# Material 9.7+ prints a banner about MkDocs 2 on every build; we pin mkdocs<2.
export NO_MKDOCS_2_WARNING := 1

.PHONY: help setup bundle site serve test test-fast test-browser bench figures readme-figure lint format clean distclean

help:
	@echo "make site    set up, then build the whole site with every figure into site/"
	@echo "make serve   set up, then serve the site; a saved page reloads in under a second"
	@echo "make test    set up, then run ruff and the whole test suite (site build and browser checks included)"
	@echo "make bench   set up, then run the benchmarks and print their ratios"
	@echo "make bundle  build the browser engine and widgets into build/web/dropout-figs.js"
	@echo "make figures OUT=dir  rebuild every figure into a folder"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -e '.[test,docs]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(VENV)/.installed node_modules/.installed

# The browser engine and widgets (web/src, TypeScript) as one classic script for file://:
# build/web/dropout-figs.js (never committed). scripts/bundle.py holds esbuild's flags and
# rebuilds only when web/src changed; the MkDocs hook calls it too.
bundle: setup
	$(BIN)/python scripts/bundle.py

site: setup bundle
	$(BIN)/mkdocs build --strict

# A live preview that rebuilds only the page you edit (--dirty, which strict mode would
# refuse); `make site` and `make test` build everything in strict mode.
serve: setup
	$(BIN)/mkdocs serve --livereload --dirty --no-strict

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint bundle
	$(BIN)/pytest

test-fast: setup bundle
	$(BIN)/pytest -m "not slow and not browser"

test-browser: setup bundle
	$(BIN)/pytest -m browser

bench: setup bundle
	$(BIN)/python scripts/bench_train.py
	$(BIN)/python scripts/bench_site.py
	$(BIN)/python scripts/bench_browser.py

OUT ?= build/figures
figures: setup
	$(BIN)/python scripts/build_figures.py $(OUT)

# The README's picture (checked by tests/test_readme.py).
readme-figure: setup
	$(BIN)/dropout-figs render mask-grid -o .github/mask-grid.gif -q

clean:
	rm -rf site build .cache .pytest_cache .ruff_cache

distclean: clean
	rm -rf $(VENV) node_modules
