#!/usr/bin/env bash
# Re-create third_party/kenlm: the query-time subset of KenLM that the compiled extension links
# (setup.py builds it). Source: the kenlm 0.3.0 sdist on PyPI. Kept: the .cc files a link of
# src/unspin/pack/ext/kenlm_batch.cc against KenLM's libraries pulls in (listed below; re-derive them
# with `-Wl,-Map` after a KenLM upgrade), the headers they and the extension include (g++ -MM), and the
# licence files. Not kept: estimation (builder/), filter/, interpolate/, tests, programs, test data.
#   bash scripts/vendor-kenlm.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[[ -x "$PY" ]] || PY=python3
WORK=$(mktemp -d -t vendor-kenlm.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$PY" -m pip download --quiet --no-binary kenlm --no-deps kenlm==0.3.0 -d "$WORK"
tar xzf "$WORK"/kenlm-0.3.0.tar.gz -C "$WORK"
K="$WORK/kenlm-0.3.0"
SOURCES="lm/bhiksha.cc lm/binary_format.cc lm/config.cc lm/lm_exception.cc lm/model.cc lm/quantize.cc
  lm/read_arpa.cc lm/search_hashed.cc lm/search_trie.cc lm/trie.cc lm/trie_sort.cc lm/value_build.cc
  lm/virtual_interface.cc lm/vocab.cc util/bit_packing.cc util/ersatz_progress.cc util/exception.cc
  util/file.cc util/file_piece.cc util/float_to_string.cc util/integer_to_string.cc util/mmap.cc
  util/murmur_hash.cc util/pool.cc util/read_compressed.cc util/scoped.cc util/spaces.cc
  util/double-conversion/bignum-dtoa.cc util/double-conversion/bignum.cc util/double-conversion/cached-powers.cc
  util/double-conversion/double-to-string.cc util/double-conversion/fast-dtoa.cc
  util/double-conversion/fixed-dtoa.cc util/double-conversion/string-to-double.cc util/double-conversion/strtod.cc"
PYINC=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
cd "$K"
files=$( {
  for s in $SOURCES; do echo "$s"; g++ -std=c++17 -DKENLM_MAX_ORDER=6 -I. -MM "$s"; done
  g++ -std=c++17 -DKENLM_MAX_ORDER=6 -I. -I"$PYINC" -I"$ROOT/src/unspin/pack/ext" -MM "$ROOT/src/unspin/pack/ext/kenlm_batch.cc"
} | tr ' \\' '\n\n' | grep -E '^(lm|util)/' | "$PY" -c 'import os, sys; print("\n".join(sorted({os.path.normpath(l.strip()) for l in sys.stdin})))')
rm -rf "$ROOT/third_party/kenlm"
mkdir -p "$ROOT/third_party/kenlm"
# shellcheck disable=SC2086
cp --parents -t "$ROOT/third_party/kenlm" $files LICENSE COPYING util/double-conversion/LICENSE
echo "vendored $(echo "$files" | wc -l) files into third_party/kenlm ($(du -sh "$ROOT/third_party/kenlm" | cut -f1))"
