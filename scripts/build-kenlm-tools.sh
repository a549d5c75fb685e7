#!/usr/bin/env bash
# Build KenLM's lmplz and build_binary (needed only to BUILD a language pack; querying uses the
# kenlm-ex wheel, and unspin's compiled extension is built by setup.py from third_party/kenlm).
# Source: the kenlm 0.3.0 sdist on PyPI, which carries the whole C++ tree.
# Output: .cache/kenlm/bin/{lmplz,build_binary}. Idempotent: does nothing when both exist.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/.cache/kenlm"
BIN="$OUT/bin"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[[ -x "$PY" ]] || PY=python3
if [[ -x "$BIN/lmplz" && -x "$BIN/build_binary" ]]; then
  echo "kenlm tools present in $BIN"
  exit 0
fi

need_pkgs=()
for p in cmake g++ libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev \
         zlib1g-dev libbz2-dev liblzma-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if (( ${#need_pkgs[@]} )); then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "missing build packages (install them as root): ${need_pkgs[*]}" >&2; exit 1
  fi
fi

mkdir -p "$OUT/src"
cd "$OUT/src"
if [[ ! -f kenlm-0.3.0.tar.gz ]]; then
  # --no-binary kenlm (not :all:): pip reads the sdist's metadata in an isolated build env, and
  # with :all: it would compile that env's cmake from source first (many minutes).
  "$PY" -m pip download --quiet --no-binary kenlm --no-deps kenlm==0.3.0 -d .
fi
rm -rf kenlm-0.3.0 && tar xzf kenlm-0.3.0.tar.gz
cd kenlm-0.3.0
mkdir -p build && cd build
cmake .. -DCMAKE_BUILD_TYPE=Release -DKENLM_MAX_ORDER=6 -DCMAKE_POSITION_INDEPENDENT_CODE=ON >"$OUT/build.log" 2>&1
make -j"$(nproc)" lmplz build_binary >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
mkdir -p "$BIN"
cp bin/lmplz bin/build_binary "$BIN/"
echo "built kenlm tools into $BIN"
