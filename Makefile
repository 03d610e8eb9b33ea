# `make demo` and `make test` are the two commands the README promises.
#
# Python: the newest of python3.13, python3.12, python3.11, python3 that runs and is >= 3.11
# (a pyenv shim that refuses a version pyenv has installed is asked through PYENV_VERSION).
# Choose one with `make test PYTHON=python3.11` (a name or a path); choose the virtual
# environment's folder with VENV= (default .venv). Without PYTHON=, an existing $(VENV) is
# kept whatever its Python; with PYTHON=, a $(VENV) of another Python version is rebuilt.
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

PYTHON_CANDIDATES := python3.13 python3.12 python3.11 python3

# $(call resolve_python,NAME): print a command for NAME that runs a Python >= 3.11, or nothing.
define resolve_python
ok() { "$$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }; \
name='$(1)'; \
if ok "$$name"; then command -v "$$name" 2>/dev/null || echo "$$name"; exit 0; fi; \
minor=$${name#python}; \
case "$$minor" in 3.[0-9]*) ;; *) exit 0;; esac; \
command -v pyenv >/dev/null 2>&1 || exit 0; \
for v in $$(pyenv versions --bare 2>/dev/null | grep -E "^$$minor\.[0-9]+$$" | sort -t. -k3,3nr); do \
  p=$$(PYENV_VERSION=$$v pyenv which "$$name" 2>/dev/null) && ok "$$p" && { echo "$$p"; exit 0; }; \
done; exit 0
endef

ifneq ($(filter command line environment environment override override,$(origin PYTHON)),)
  PYTHON_GIVEN := 1
  PYTHON_EXE := $(shell $(call resolve_python,$(PYTHON)))
  ifeq ($(PYTHON_EXE),)
    PYTHON_EXE := $(PYTHON)
  endif
else
  PYTHON_GIVEN :=
  PYTHON_EXE := $(firstword $(foreach c,$(PYTHON_CANDIDATES),$(shell $(call resolve_python,$(c)))))
endif

PY_VERSION_CMD := import sys; print("%d.%d" % sys.version_info[:2])

.PHONY: venv demo test test-fast lint types bench bench-posterior bench-nuts bench-categorical bench-matrix bench-dask clean python-check

# Rebuild the venv when PYTHON= names another version than the one it was made with.
ifeq ($(PYTHON_GIVEN),1)
  VENV_PY_VERSION := $(shell test -x $(BIN)/python && $(BIN)/python -c '$(PY_VERSION_CMD)' 2>/dev/null)
  WANT_PY_VERSION := $(shell $(PYTHON_EXE) -c '$(PY_VERSION_CMD)' 2>/dev/null)
  ifneq ($(VENV_PY_VERSION),)
    ifneq ($(VENV_PY_VERSION),$(WANT_PY_VERSION))
      $(STAMP): python-check
    endif
  endif
endif

python-check:
	@:

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PYTHON_EXE)" ]; then \
	  echo "make: no Python >= 3.11 found (tried $(PYTHON_CANDIDATES)); install one or pass PYTHON=/path/to/python3.X" >&2; exit 1; fi
	@if ! $(PYTHON_EXE) -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
	  echo "make: PYTHON=$(PYTHON_EXE) does not run a Python >= 3.11; pass PYTHON=python3.11 (or 3.12, 3.13)" >&2; exit 1; fi
	@if [ -x $(BIN)/python ] && [ "$(PYTHON_GIVEN)" = 1 ] && \
	  [ "$$($(BIN)/python -c '$(PY_VERSION_CMD)')" != "$$($(PYTHON_EXE) -c '$(PY_VERSION_CMD)')" ]; then \
	  echo "make: $(VENV) holds Python $$($(BIN)/python -c '$(PY_VERSION_CMD)'); rebuilding it with $(PYTHON_EXE)"; \
	  rm -rf $(VENV); fi
	@if [ ! -x $(BIN)/python ]; then \
	  echo "make: creating $(VENV) with $(PYTHON_EXE) (Python $$($(PYTHON_EXE) -c '$(PY_VERSION_CMD)'))"; \
	  $(PYTHON_EXE) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/bayes-gmm-mi demo

# lint, then types, then the tests (fail fast).
test: $(STAMP)
	$(BIN)/ruff check bayes_gmm_mi tests
	$(BIN)/mypy
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# Static checks (configuration in pyproject.toml). bench/ is not linted yet.
# TODO(issue 13): run lint and types before pytest in `test` once the package is clean.
lint: $(STAMP)
	$(BIN)/ruff check bayes_gmm_mi tests

types: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_core.py

bench-posterior: $(STAMP)
	$(BIN)/python bench/bench_posterior.py

bench-categorical: $(STAMP)
	$(BIN)/python bench/bench_categorical.py

bench-matrix: $(STAMP)
	$(BIN)/python bench/bench_matrix.py

bench-nuts: $(STAMP)
	$(BIN)/python bench/bench_nuts.py

bench-dask: $(STAMP)
	$(BIN)/python bench/bench_dask.py

clean:
	rm -rf $(VENV) build *.egg-info
