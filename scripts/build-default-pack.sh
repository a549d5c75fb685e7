#!/usr/bin/env bash
# Rebuild the default English pack shipped in src/unspin/data/pack-en from the Wikipedia extract
# (about 15 minutes on 2 cores, < 6 GB memory). The held-out articles are skipped by the builder.
# Usage: scripts/build-default-pack.sh [CORPUS_DIR]   (default: ../shared/corpora/enwiki)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CORPUS="${1:-${UNSPIN_CORPUS:-$ROOT/../shared/corpora/enwiki}}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
bash "$ROOT/scripts/build-kenlm-tools.sh"
bash "$ROOT/scripts/fetch-pack-sources.sh" >/dev/null
"$PY" -m pip install --quiet -r "$ROOT/requirements-pack.txt"
WORK="${UNSPIN_PACK_WORK:-$(mktemp -d /tmp/unspin-pack-work.XXXXXX)}"
exec nice "$PY" -m unspin.pack.cli build --corpus "$CORPUS" --out "$ROOT/src/unspin/data/pack-en" \
  --work "$WORK" --order 4 --prune "0 3 4 6" --lm-vocab 200000 --min-count 5 --vector-words 80000 \
  --workers 2 --memory 6G --name pack-en
