# Convenience wrappers around the two README commands (a local virtualenv in .venv).
PYTHON ?= python3
VENV := .venv

.PHONY: run test bench catalogue terminology clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

run: $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e .
	$(VENV)/bin/calf-cds serve

test: $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e '.[test]'
	$(VENV)/bin/python -m pytest

bench: $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e '.[test,bench]'
	$(VENV)/bin/python -m bench

catalogue: $(VENV)/bin/python
	$(VENV)/bin/python tools/gen_catalogue.py

terminology: $(VENV)/bin/python
	$(VENV)/bin/python tools/build_terminology.py

clean:
	rm -rf $(VENV) var .pytest_cache
