# newsvault: `make demo` runs one archive of the replica site; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
PYWB_VENV := .venv-pywb
AUTHSIGN_VENV := .venv-authsign
BIN := $(VENV)/bin
RWP := infra/replaywebpage

.PHONY: install chromium demo test test-fast check lint typecheck unit up down bench clean-spool

install: $(VENV)/.installed $(PYWB_VENV)/.installed $(AUTHSIGN_VENV)/.installed chromium \
	$(RWP)/node_modules/.installed

# The replay tests drive Debian's chromium (through Playwright, which never downloads a browser):
# installed from apt when missing, as root; otherwise say how.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; \
	else echo "replay tests need /usr/bin/chromium: sudo apt-get install chromium" >&2; fi

# ReplayWeb.page, pinned in infra/replaywebpage (package-lock.json): the replay tests serve its
# ui.js and sw.js as they ship (no install scripts run: .npmrc).
$(RWP)/node_modules/.installed: $(RWP)/package.json $(RWP)/package-lock.json
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get install -y -q npm || { apt-get update -q && apt-get install -y -q npm; }; }; } || \
		{ echo "ReplayWeb.page needs npm: sudo apt-get install npm" >&2; exit 1; }
	cd $(RWP) && npm ci
	touch $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# pywb pins redis 2.x, which conflicts with Prefect: it lives in its own virtualenv.
$(PYWB_VENV)/.installed: infra/pywb-requirements.txt
	$(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install -q --upgrade pip
	$(PYWB_VENV)/bin/python -m pip install -q -r infra/pywb-requirements.txt
	touch $@

# authsign (the WACZ signing server Browsertrix calls) pins its own FastAPI: its own virtualenv.
$(AUTHSIGN_VENV)/.installed: infra/authsign-requirements.txt
	$(PYTHON) -m venv $(AUTHSIGN_VENV)
	$(AUTHSIGN_VENV)/bin/python -m pip install -q --upgrade pip
	$(AUTHSIGN_VENV)/bin/python -m pip install -q -r infra/authsign-requirements.txt
	touch $@

demo: install
	bash infra/demo.sh

test: install check

# Lint, types and every test that starts no server (the e2e ones need SeaweedFS, Prefect, the
# replica or pywb): about two minutes.
test-fast: install lint typecheck
	$(BIN)/python -m pytest -m "not e2e"

check: lint typecheck unit

# Style, then the dependency rules of docs/ARCHITECTURE.md (import contracts in pyproject.toml, no
# import cycle, no module over 400 lines).
lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_layout.py

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/python -m pytest

up: install
	$(BIN)/newsvault up

down:
	$(BIN)/newsvault down

# Cleaner quality and speed vs trafilatura (replica ground truth + ../shared/extraction-dev).
bench-clean: install
	$(BIN)/python bench/clean_quality.py

# Every stage against a baseline measured in the same run; writes bench/RESULTS.md (bench/README.md).
bench: install
	$(BIN)/python bench/run.py
