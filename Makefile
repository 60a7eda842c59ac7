# Two commands set everything up on a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The tutorial's language for `make lab` / `make voila`: en, ja or zh (not LANG or LANGUAGE, which
# are the locale's). Example: make lab NB_LANG=ja
NB_LANG ?= en
# Babel, for `make messages`: where the catalogues live and what they are called.
LOCALES := orwidgets/locale
DOMAIN := orwidgets

.PHONY: lab test bench install-lab install-test voila clean messages nb-lang

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
lab: nb-lang install-lab
	$(PY) tools/lab.py --lang $(NB_LANG)

## The tutorial as a Voila app (voila.json turns on progressive rendering), in NB_LANG.
voila: nb-lang install-lab
	$(PY) tools/lab.py --voila --lang $(NB_LANG)

## Refuse an unknown NB_LANG (or a language whose tutorial is not built yet) before installing
## anything: one line, exit 2. tools/lab.py needs only the standard library for this.
nb-lang:
	@$(PYTHON) tools/lab.py --check --lang $(NB_LANG)

## The whole suite, browser tests included (they need Debian's chromium; see README).
test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

## Benchmarks: each prints its figures next to a baseline measured in the same run.
bench: install-test
	$(PY) benchmarks/run_all.py

## For translators: extract every marked string into the template, merge it into each language's
## catalogue (new strings arrive empty, changed ones marked fuzzy), and compile the .mo files the
## widgets read. Then translate orwidgets/locale/<lang>/LC_MESSAGES/orwidgets.po and run it again;
## tests/test_i18n_catalogues.py names anything still missing. See orwidgets/locale/README.md.
messages: $(PY)
	$(VENV)/bin/pybabel extract --mapping-file=babel.cfg --output-file=$(LOCALES)/$(DOMAIN).pot \
		--add-comments=TRANSLATORS: --add-location=file --sort-by-file --project=orwidgets \
		--copyright-holder="orwidgets developers" --no-wrap --omit-header .
	$(VENV)/bin/pybabel update --input-file=$(LOCALES)/$(DOMAIN).pot --output-dir=$(LOCALES) \
		--domain=$(DOMAIN) --no-wrap --ignore-obsolete --previous --ignore-pot-creation-date
	$(VENV)/bin/pybabel compile --directory=$(LOCALES) --domain=$(DOMAIN) --statistics

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
