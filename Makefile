# AgentShell — every target creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check format lint types contracts bench stress screenshots demo clean vendor-clis

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,cluster]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/agentshell tui

test: $(STAMP)
	$(BIN)/pytest -n auto -q

format: $(STAMP)
	$(BIN)/ruff format agentshell tests benchmarks

lint: $(STAMP)
	$(BIN)/ruff format --check agentshell tests benchmarks
	$(BIN)/ruff check agentshell tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

check: lint types contracts test

bench: $(STAMP)
	$(BIN)/python -m benchmarks

stress: $(STAMP)
	AGENTSHELL_STRESS=1 $(BIN)/pytest -q -m slow -p no:randomly

screenshots: $(STAMP)
	$(BIN)/agentshell screenshots --out screenshots

demo: $(STAMP)
	$(BIN)/agentshell demo --cast screenshots/demo.cast
	$(BIN)/agentshell screenshots --out screenshots

# the pinned Claude Code, Codex and Gemini CLIs for tests/vendors, into .vendor/
vendor-clis:
	sh tests/vendors/install.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
