# Every target sets up .venv itself: `make test` and `make demo` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
N ?= 10000

STRESS_RUNS ?= 5
# `make check`: the edit-test loop, under a minute on the 2-core machine: the front end, the
# interpreter, the monitor, the verifier's own unit tests and the guards on the suite itself.
CHECK_TESTS := tests/test_grammar.py tests/test_typecheck.py tests/test_interpreter.py \
	tests/test_frozen.py tests/test_printer.py tests/test_monitor.py tests/test_motion.py \
	tests/test_verifier.py tests/test_verifier_intervals.py tests/test_no_wall_clock.py \
	tests/test_import_graph.py

.PHONY: test check stress demo soak bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

test: $(VENV)/.installed
	$(PY) -m pytest -q

check: $(VENV)/.installed
	$(PY) -m pytest -q -x -p no:cacheprovider $(CHECK_TESTS)

# The whole suite STRESS_RUNS times, each in a new random order (pytest-random-order, seed
# printed), while every core is kept busy (stress-ng if installed, else one Python busy loop
# per core): a test that depends on order, shared state or the machine's speed shows up here.
stress: $(VENV)/.installed
	@cores=$$(nproc); burners=""; \
	if command -v stress-ng >/dev/null 2>&1; then stress-ng --cpu $$cores --quiet & burners=$$!; \
	else for i in $$(seq $$cores); do $(PY) -c 'while True: pass' & burners="$$burners $$!"; done; fi; \
	trap 'kill $$burners 2>/dev/null' EXIT INT TERM; \
	failed=0; \
	for run in $$(seq $(STRESS_RUNS)); do \
	  seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); \
	  echo "== stress run $$run of $(STRESS_RUNS): $$cores busy cores, --random-order-seed=$$seed"; \
	  $(PY) -m pytest -q -p no:cacheprovider --random-order-seed=$$seed || failed=$$((failed + 1)); \
	done; \
	echo "== stress: $$failed of $(STRESS_RUNS) runs failed"; \
	test $$failed -eq 0

demo: $(VENV)/.installed
	$(VENV)/bin/capc demo

# WORKERS=N runs the soak in shards on N local worker processes, RAY=ADDRESS (or RAY=local) on Ray.
soak: $(VENV)/.installed
	CAPC_SOAK_EXAMPLES=$(N) CAPC_SOAK_WORKERS=$(WORKERS) CAPC_SOAK_RAY=$(RAY) $(PY) -m pytest -q -s -m soak tests/

bench: $(VENV)/.installed
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
