# The two commands of the README's quick start:
#   make run    set up the project's virtual environment (.venv, created once and reused),
#               install, then run the appliance on its embedded default (the local venue
#               on a synthetic market, demo account) in the foreground; Ctrl-C stops it
#   make test   the same environment with the test extras, then ruff, the import
#               contracts (lint-imports, pyproject.toml [tool.importlinter]) and the suite
# PYTHON is the interpreter that creates .venv (stock Debian 12: /usr/bin/python3; its
# PEP 668 guard is why nothing is installed outside .venv). Afterwards .venv/bin/mmctl
# is the operator's command (or `. .venv/bin/activate`).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_FLAGS ?= --quiet --disable-pip-version-check
ARGS ?=

.PHONY: venv install install-test run test lint bench

$(PY):
	sh ops/make-venv.sh "$(PYTHON)" "$(VENV)"

venv: $(PY)

install: venv
	$(PY) -m pip install $(PIP_FLAGS) -e .

install-test: venv
	$(PY) -m pip install $(PIP_FLAGS) -e '.[test]'

run: install
	@echo "mmctl: $(VENV)/bin/mmctl (status, inspect, kill, stop from another terminal)"
	$(PY) -m appliance.cli start --foreground $(ARGS)

test: install-test
	$(PY) -m ruff check .
	$(PY) -c "from importlinter.cli import lint_imports_command as c; c(['--no-cache'])"
	$(PY) -m pytest -q --durations=25 $(ARGS)

bench: install-test
	$(PY) -m appliance.cli bench ipc --json bench-ipc.json
