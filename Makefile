# Convenience wrappers around the two README commands (a local virtualenv in .venv).
PYTHON ?= python3
VENV := .venv

.PHONY: run test bench soak alert-burden lock catalogue terminology clean

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

# Memory under hostile FHIR servers: 10 minutes at 20 calls/s (gzip bomb, 50 MB body,
# 200,000 resources, normal in turn); RSS start/peak/end and after 15 s without load;
# exits 1 when a target fails. Not part of the test suite or of `make bench`.
soak: $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e '.[test,bench]'
	$(VENV)/bin/python -m bench.soak --minutes 10 --rate 20 --scenario mixed --settle 15

# Alert burden on >= 1,000 synthetic charts (carebundle, fixed seed); exits 1 when a
# target fails. Its table is in README.md ("Alert burden").
alert-burden: $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e '.[bench]'
	$(VENV)/bin/python -m bench.alert_burden

# Hashed lockfiles the Dockerfile installs from: runtime dependencies (from pyproject.toml)
# and the build backend. uv comes from PyPI; rerun after changing dependencies (a test
# fails when the lock no longer covers pyproject.toml).
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal --python-version 3.11
lock: $(VENV)/bin/python
	$(VENV)/bin/pip install -q uv
	$(UV_COMPILE) pyproject.toml --extra postgres --extra redis -o requirements.lock
	echo 'setuptools>=77' | $(UV_COMPILE) - -o requirements-build.lock

catalogue: $(VENV)/bin/python
	$(VENV)/bin/python tools/gen_catalogue.py

# Rebuild cds_service/data/terminology.json from ../shared/valuesets and tools/sources,
# refresh the summary of the codes ../shared/patients carries, and regenerate
# docs/terminology.md (a test checks the committed doc against the committed data).
terminology: $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e '.[terminology]'
	$(VENV)/bin/python tools/scan_patient_codes.py
	$(VENV)/bin/python tools/build_terminology.py
	$(VENV)/bin/python tools/gen_terminology_doc.py

clean:
	rm -rf $(VENV) var .pytest_cache
