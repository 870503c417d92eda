# AQP Ledger. `make run` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
#: the NHS.UK design system's files for the pages, from the npm registry (package-lock.json)
PAGES_ASSETS := node_modules/.installed

.PHONY: run test browser bench clean-venv

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

test: $(INSTALLED) $(PAGES_ASSETS) browser
	$(BIN)/python -m pytest -q -n auto

# The browser tests drive Debian's Chromium (Playwright never downloads one): installed here if
# it is missing and this machine can (root with apt-get); otherwise those tests say so (and fail with CI=true).
browser:
	@command -v chromium >/dev/null 2>&1 || [ -n "$$AQP_CHROMIUM" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Chromium is missing; installing Debian's chromium for the browser tests" >&2; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; \
	  else echo "Chromium is missing (apt-get install chromium, or set AQP_CHROMIUM): the browser tests cannot run" >&2; fi; }

bench: $(INSTALLED)
	$(BIN)/python benchmarks/append.py
	$(BIN)/python benchmarks/audit.py
	$(BIN)/python benchmarks/proofs.py
	$(BIN)/python benchmarks/aggregates.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/group_commit.py
	$(BIN)/python benchmarks/web.py
	$(BIN)/python benchmarks/demo.py --years 1 --stores sqlite,postgres
	$(BIN)/python benchmarks/projections.py

clean-venv:
	rm -rf $(VENV)
