# Olly: `make run` serves the platform on http://127.0.0.1:8000; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench crash format clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the dependency list changes, so a second `make run` starts at once.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/olly db upgrade
	$(BIN)/olly demo seed --if-empty
	$(BIN)/olly serve

# The portals' browser journeys drive Debian's chromium through Playwright (which never downloads a
# browser). Installed here when missing; if it cannot be, they skip — or fail under OLLY_REQUIRE_SERVICES=1.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; } >/dev/null 2>&1 || \
	  echo "chromium could not be installed: the browser journeys (tests/e2e/test_portals.py) will not run"

# One worker per core; a test file stays on one worker (its module fixtures, the portal server).
TEST_WORKERS ?= auto
test: $(VENV)/.installed-dev browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy olly
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

# The event-backbone crash test over more seeds than CI runs (CI: one seed per transport).
crash: $(VENV)/.installed-dev
	OLLY_CRASH_SEEDS=1,2,3,4,5 $(BIN)/python -m pytest -q tests/integration/bus/test_crash.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
