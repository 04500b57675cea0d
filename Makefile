# `make test` and `make demo` work from a fresh clone: they create .venv when
# it is missing and install the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo pytest lit bench clean

$(STAMP): pyproject.toml
	@echo "installing flowcompile and its dependencies (xdsl, numpy, litellm, matplotlib, test and bench tools) into $(VENV): a minute or more, pip is quiet"
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/lit -sv lit_tests

pytest: $(STAMP)
	$(BIN)/python -m pytest

lit: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/lit -v lit_tests

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) lit_tests/Output build *.egg-info

# Two real models (llama.cpp on loopback) through compile, run, evaluate and a cached
# rerun; its own venv (.venv-real, llama-cpp-python built from source). Not part of test.
.PHONY: real-smoke
real-smoke:
	$(PYTHON) scripts/real_smoke.py
