# Two commands for a newcomer:  `make demo`  (set up, run unspin on the shipped example)
#                               `make test`  (set up, lint, run the tests)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: setup
	@echo "== unspin repair examples/spun-news.txt (damage undone, edits logged) =="
	$(VENV)/bin/unspin repair examples/spun-news.txt
	@echo
	@echo "== the edit log (unspin repair --json) =="
	$(VENV)/bin/unspin repair --json examples/spun-news.txt | $(PY) -c "import json,sys; [print(r) for r in json.load(sys.stdin)['repairs']]"

lint: setup
	$(VENV)/bin/ruff check src tests bench

test: lint
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/repair.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
