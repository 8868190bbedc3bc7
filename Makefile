# The README's two commands: `make demo` and `make test`. Each works on a fresh machine from a
# clean clone: it creates .venv, installs torch 2.13.0 (the CPU build where no GPU is present),
# triton and the project with its test extras.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-gpu bench lint setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(VENV)/bin/llmbackend demo

test: $(STAMP)
	$(PY) -m pytest -q -m "not gpu" tests bench/test_problems_load.py bench/test_summary.py bench/test_curated.py

# ruff comes with the test extras; its rules are in pyproject.toml ([tool.ruff])
lint: $(STAMP)
	$(VENV)/bin/ruff check .

test-gpu: $(STAMP)
	$(PY) -m pytest -q -m gpu tests

bench: $(STAMP)
	$(PY) -m pytest bench -q --benchmark-enable --benchmark-autosave

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
