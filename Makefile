# Two commands do all set-up: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8501

.PHONY: install run test test-fast bench lint clean-venv

# Reinstall only when the lock or the package metadata changed.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/streamlit run app/main.py --server.port $(PORT)

test: install
	$(PY) -m pytest -p no:cacheprovider

test-fast: install
	$(PY) -m pytest -p no:cacheprovider -m "not slow and not e2e"

bench: install
	$(PY) bench/run_all.py

lint: install
	$(VENV)/bin/ruff check riskcore app pages tests bench

clean-venv:
	rm -rf $(VENV)
