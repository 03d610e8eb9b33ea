# `make demo` and `make test` are the two commands the README promises.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test test-fast bench bench-posterior bench-categorical bench-matrix bench-dask clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/bayes-gmm-mi demo

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/bench_core.py

bench-posterior: $(STAMP)
	$(BIN)/python bench/bench_posterior.py

bench-categorical: $(STAMP)
	$(BIN)/python bench/bench_categorical.py

bench-matrix: $(STAMP)
	$(BIN)/python bench/bench_matrix.py

bench-dask: $(STAMP)
	$(BIN)/python bench/bench_dask.py

clean:
	rm -rf $(VENV) build *.egg-info
