# make demo : set up .venv, make synthetic pages, train/evaluate the demo detector (CPU)
# make test : set up .venv, run the test suite
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
DEMO_DIR ?= work_dirs/demo

.PHONY: setup demo test test-fast lint format clean-demo
setup:
	@VENV=$(VENV) PYTHON=$(PYTHON) bash tools/setup_env.sh

demo: setup
	@$(PY) tools/demo.py --work-dir $(DEMO_DIR)

# two workers (pytest-xdist), one thread each: the suite spends much of its time starting
# processes, importing OpenMMLab and waiting on browsers and servers, which a second worker fills
TEST_WORKERS ?= 2
test: setup lint
	@echo "[test] running pytest ($(TEST_WORKERS) workers)"
	@OMP_NUM_THREADS=1 $(PY) -m pytest tests -q -p no:cacheprovider -n $(TEST_WORKERS) --durations=30

# the edit loop: the pure core, the converters and validation layer, the utils, the dataset adapters (a few minutes)
test-fast: setup
	@$(PY) -m pytest tests/core tests/converters tests/utils/test_io.py tests/utils/test_cli.py \
		tests/datasets tests/test_layout.py tests/test_errors.py tests/utils/test_validation.py tests/annotation/test_writers.py tests/tools/test_numeric_options.py \
		tests/utils/test_config.py tests/review/test_store.py tests/engine/runner -m 'not processes' -q -p no:cacheprovider

# ruff: lint and import order, then the format check (configured in pyproject.toml)
lint: setup
	@echo "[lint] ruff check, ruff format --check"
	@$(VENV)/bin/ruff check kaokore_mm tools tests configs setup.py
	@$(VENV)/bin/ruff format --check kaokore_mm tools tests configs setup.py

format: setup
	@$(VENV)/bin/ruff check --fix kaokore_mm tools tests configs setup.py
	@$(VENV)/bin/ruff format kaokore_mm tools tests configs setup.py

clean-demo:
	rm -rf $(DEMO_DIR)
