# Every target sets up .venv itself: `make test` and `make demo` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
N ?= 10000

.PHONY: test demo soak bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

test: $(VENV)/.installed
	$(PY) -m pytest -q

demo: $(VENV)/.installed
	$(VENV)/bin/capc demo

# WORKERS=N runs the soak in shards on N local worker processes, RAY=ADDRESS (or RAY=local) on Ray.
soak: $(VENV)/.installed
	CAPC_SOAK_EXAMPLES=$(N) CAPC_SOAK_WORKERS=$(WORKERS) CAPC_SOAK_RAY=$(RAY) $(PY) -m pytest -q -s -m soak tests/

bench: $(VENV)/.installed
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
