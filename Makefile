# make demo : set up .venv, make synthetic pages, train/evaluate the demo detector (CPU)
# make test : set up .venv, run the test suite
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
DEMO_DIR ?= work_dirs/demo

.PHONY: setup demo test clean-demo
setup:
	@VENV=$(VENV) PYTHON=$(PYTHON) bash tools/setup_env.sh

demo: setup
	@$(PY) tools/demo.py --work-dir $(DEMO_DIR)

test: setup
	@echo "[test] running pytest"
	@$(PY) -m pytest tests -q -p no:cacheprovider

clean-demo:
	rm -rf $(DEMO_DIR)
