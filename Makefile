# Two commands for a newcomer:  `make demo`  (set up, run unspin on the shipped example)
#                               `make test`  (set up, lint, run the tests)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint bench clean kenlm-tools pack-sources pack browser wheel-check schema learn encoder-loso

setup: $(STAMP)

# setup.py compiles the extension (src/unspin/pack/ext + third_party/kenlm) in place during `pip install -e`:
# a change to its sources must re-run it.
$(STAMP): requirements.txt requirements-dev.txt requirements-pack.txt requirements-extras.txt pyproject.toml \
          setup.py $(wildcard src/unspin/pack/ext/*) $(shell find third_party -type f 2>/dev/null)
	bash scripts/ensure-build-deps.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt -r requirements-pack.txt -r requirements-extras.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: setup
	@echo "== unspin check examples/spun-news.txt: verdict, flagged spans [→ likely original] =="
	-$(VENV)/bin/unspin check --color examples/spun-news.txt
	@echo
	@echo "== unspin restore: the likely original wording =="
	$(VENV)/bin/unspin restore examples/spun-news.txt
	@echo
	@echo "== unspin repair --json: what scraping broke, with offsets =="
	$(VENV)/bin/unspin repair --json examples/spun-news.txt | $(PY) -c "import json,sys; [print(r) for r in json.load(sys.stdin)['repairs']]"
	@echo
	@echo "== unspin trace: its source in a reference collection, side by side, with the facts that changed =="
	rm -rf .cache/demo-index
	$(VENV)/bin/unspin index build examples/references.jsonl --index .cache/demo-index --workers 1
	-$(VENV)/bin/unspin trace examples/spun-news.txt --index .cache/demo-index

lint: setup
	$(VENV)/bin/ruff check src tests bench

# KenLM's lmplz/build_binary: needed to build packs (and by the pack tests, which build a tiny pack);
# querying a pack needs only what `make setup` installs (the compiled extension is built by setup.py).
kenlm-tools: setup
	bash scripts/build-kenlm-tools.sh

# Moby, WordNet, GloVe and the pocketsphinx baseline, into .cache/ (for building and measuring packs).
pack-sources: setup
	bash scripts/fetch-pack-sources.sh

# Rebuild the default pack from ../shared/corpora/enwiki (~15 min, 2 cores). Commit it only when a
# measured gain justifies another ~55 MiB of history.
pack: kenlm-tools pack-sources
	bash scripts/build-default-pack.sh

# What unspin learns from real spinners, in order (needs ../shared/dev; ~15 min on 2 cores, each step
# resumable): the pack's spinner table from the aligned (spun page, source) pairs; the verdict
# calibration (bench/calibrate.py, its features cached in .cache/calibrate); the span scorer, fitted on
# every reporting-pass substitution of the real pages and their sources (bench/loso.py, rows cached).
SHARED_DEV ?= ../shared/dev
learn: kenlm-tools pack-sources
	$(VENV)/bin/unspin pack add-spinner-table $(SHARED_DEV)/real-pairs.jsonl $(SHARED_DEV)/train-pairs.jsonl \
		$(SHARED_DEV)/seed-pair.jsonl --pack src/unspin/data/pack-en
	$(PY) bench/calibrate.py
	$(PY) bench/loso.py --scorer --fit --span-p 0.3

# Debian's chromium for the browser tests (needs root; CI runs it).
browser:
	bash scripts/install-browser.sh

# Feasibility of a contextual encoder (issue 13): all-MiniLM-L6-v2 fine-tuned on real spinner pages,
# leave-one-site-out (~30 min on 2 cores, resumable per site). Its own venv: torch is for training only.
encoder-loso: kenlm-tools pack-sources
	$(PYTHON) -m venv .venv-train
	.venv-train/bin/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt -r requirements-train.txt
	.venv-train/bin/python -m pip install --quiet --no-deps -e .
	.venv-train/bin/python bench/encoder_loso.py

test: lint kenlm-tools pack-sources
	$(PY) -m pytest -q

# The report's JSON Schema, generated from unspin/report.py (tests/test_contract.py fails when it is stale).
schema: setup
	$(PY) -m unspin.contract --write docs/report.schema.json

# Build the code wheel and the English pack's wheel, install them into a fresh venv with only their
# declared dependencies, and run `unspin check --json` and `unspin repair` there (scripts/wheel-check.sh).
wheel-check: setup
	PYTHON=$(PY) bash scripts/wheel-check.sh

bench: setup kenlm-tools pack-sources
	$(PY) bench/repair.py
	$(PY) bench/pack.py
	$(PY) bench/engine.py

clean:
	rm -rf $(VENV) .venv-train .pytest_cache .ruff_cache .hypothesis
