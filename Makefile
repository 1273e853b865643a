# The two commands of the README's quick start:
#   make run    install, then run the appliance on its embedded default (the local venue
#               on a synthetic market, demo account) in the foreground; Ctrl-C stops it
#   make test   install with the test extras, then ruff, the import contracts (lint-imports,
#               pyproject.toml [tool.importlinter]) and the whole test suite
PYTHON ?= python3
PIP_FLAGS ?= --quiet --disable-pip-version-check
ARGS ?=

.PHONY: install install-test run test lint bench

install:
	$(PYTHON) -m pip install $(PIP_FLAGS) -e .

install-test:
	$(PYTHON) -m pip install $(PIP_FLAGS) -e '.[test]'

run: install
	$(PYTHON) -m appliance.cli start --foreground $(ARGS)

test: install-test
	$(PYTHON) -m ruff check .
	$(PYTHON) -c "from importlinter.cli import lint_imports_command as c; c(['--no-cache'])"
	$(PYTHON) -m pytest -q --durations=25 $(ARGS)

bench: install-test
	$(PYTHON) -m appliance.cli bench ipc --json bench-ipc.json
