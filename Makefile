# Two commands set everything up on a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: lab test bench install-lab install-test voila clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install-lab: $(PY)
	$(PIP) install --quiet -e ".[lab]"

install-test: $(PY)
	$(PIP) install --quiet -e ".[test]"

## Open the tutorial in JupyterLab (the in-kernel emulator is the default target: no key needed).
## It opens a working copy in my-notebooks/, so that running and saving leave notebooks/ clean;
## tools/lab.py says how (and passes --allow-root when run as root).
lab: install-lab
	$(PY) tools/lab.py

## The tutorial as a Voila app (voila.json turns on progressive rendering).
voila: install-lab
	$(VENV)/bin/voila notebooks/01-tutorial.ipynb

## The whole suite, browser tests included (they need Debian's chromium; see README).
test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

## Benchmarks: each prints its figures next to a baseline measured in the same run.
bench: install-test
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
