#!/usr/bin/env bash
# What `pip install` needs to compile unspin's extension (setup.py): a C++ compiler and the Python
# headers of the interpreter given (Debian ships them apart, in python3-dev). Installed with apt when
# root (CI); otherwise one line saying what to install.
#   bash scripts/ensure-build-deps.sh [python]
set -euo pipefail
PY="${1:-python3}"
need=()
command -v g++ >/dev/null 2>&1 || need+=(g++)
inc=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[[ -f "$inc/Python.h" ]] || need+=("python$("$PY" -c 'import sys; print(sys.version_info[0])')-dev")
(( ${#need[@]} )) || exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  [[ -f "$inc/Python.h" ]] || { echo "no Python.h in $inc after installing ${need[*]}" >&2; exit 1; }
else
  echo "unspin compiles an extension at install: install ${need[*]} (e.g. sudo apt-get install ${need[*]})" >&2
  exit 1
fi
