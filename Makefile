# AQP Ledger. `make run` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
#: the NHS.UK design system's files for the pages, from the npm registry (package-lock.json)
PAGES_ASSETS := node_modules/.installed

.PHONY: run test bench clean-venv

$(INSTALLED): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "AQP Ledger needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(INSTALLED)

$(PAGES_ASSETS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "The pages need npm (Node.js 20+) to install the NHS.UK design system: apt-get install npm" >&2; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $(PAGES_ASSETS)

run: $(INSTALLED) $(PAGES_ASSETS)
	@mkdir -p var
	$(BIN)/aqp run

test: $(INSTALLED) $(PAGES_ASSETS)
	$(BIN)/python -m pytest -q -n auto

bench: $(INSTALLED)
	$(BIN)/python benchmarks/append.py
	$(BIN)/python benchmarks/audit.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/web.py
	$(BIN)/python benchmarks/demo.py --years 1 --stores sqlite,postgres
	$(BIN)/python benchmarks/projections.py

clean-venv:
	rm -rf $(VENV)
