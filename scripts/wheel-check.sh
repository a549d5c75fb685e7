#!/usr/bin/env bash
# Install unspin as a pip user gets it, and run it: build the code wheel and the English pack's wheel,
# install them into a fresh venv with only their declared dependencies (from the package index), and
# run `unspin check --json` and `unspin repair` on the shipped example from outside the checkout.
# Asserts: the code wheel is under 2 MB and carries LICENSE; the pack wheel carries its licence files;
# the installed unspin finds the installed pack (not the checkout's); the example is flagged.
# Prints whether the compiled fast path is present in that venv (it is not: no wheel builds it).
#
#   bash scripts/wheel-check.sh            (make wheel-check)
#   WHEEL_CHECK_DIR=/tmp/wc bash scripts/wheel-check.sh   to keep the venv and wheels for a look
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PYTHON=${PYTHON:-python3}
WORK=${WHEEL_CHECK_DIR:-$(mktemp -d -t unspin-wheel-check.XXXXXX)}
[ -n "${WHEEL_CHECK_DIR:-}" ] || trap 'rm -rf "$WORK"' EXIT
rm -rf "$WORK/dist" "$WORK/venv"
mkdir -p "$WORK/dist"
# setuptools builds in place and reuses build/: a stale build/lib would put deleted modules in the wheel.
clean() { rm -rf "$REPO/build" "$REPO/packages/unspin-pack-en/build"; }
clean
t0=$(date +%s)

echo "== building the wheels into $WORK/dist"
$PYTHON -m pip wheel --quiet --no-deps "$REPO" -w "$WORK/dist"
$PYTHON -m pip wheel --quiet --no-deps "$REPO/packages/unspin-pack-en" -w "$WORK/dist"
code_whl=$(ls "$WORK"/dist/unspin-[0-9]*.whl)
pack_whl=$(ls "$WORK"/dist/unspin_pack_en-*.whl)
clean  # the pack's build/ holds a ~100 MB copy
t1=$(date +%s)

"$PYTHON" - "$code_whl" "$pack_whl" <<'PY'
import sys, zipfile
code, pack = (zipfile.ZipFile(p) for p in sys.argv[1:3])
size = sum(i.compress_size for i in code.infolist())
names = code.namelist()
assert size < 2_000_000, f"code wheel is {size / 1e6:.1f} MB (limit 2 MB)"
assert not any("data/pack-en" in n for n in names), "the code wheel must not carry the pack"
assert any(n.endswith("licenses/LICENSE") for n in names), "the code wheel lacks LICENSE"
pnames = pack.namelist()
for need in ("licenses/LICENSE", "licenses/LICENSES.md", "unspin_pack_en/LICENSES.md", "unspin_pack_en/manifest.json"):
    assert any(n.endswith(need) for n in pnames), f"the pack wheel lacks {need}"
meta = pack.read(next(n for n in pnames if n.endswith("METADATA"))).decode()
lic = next(line for line in meta.splitlines() if line.startswith("License-Expression:"))
assert "CC-BY-SA-3.0" in lic and "PDDL-1.0" in lic and "WordNet" in lic, lic
print(f"code wheel {size / 1e6:.2f} MB, {len(names)} files; pack wheel "
      f"{sum(i.compress_size for i in pack.infolist()) / 1e6:.1f} MB, {len(pnames)} files; {lic}")
PY

echo "== installing both into a fresh venv (declared dependencies only)"
$PYTHON -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --upgrade pip
"$WORK/venv/bin/python" -m pip install --quiet "$code_whl" "$pack_whl"
t2=$(date +%s)

echo "== running the installed unspin from outside the checkout"
cd "$WORK"
unset PYTHONPATH UNSPIN_PACK
rc=0
"$WORK/venv/bin/unspin" check --json "$REPO/examples/spun-news.txt" > check.json || rc=$?
[ "$rc" = 1 ] || { echo "unspin check: exit $rc, expected 1 (spun)"; cat check.json; exit 1; }
"$WORK/venv/bin/unspin" repair "$REPO/examples/spun-news.txt" > repaired.txt
if "$WORK/venv/bin/python" -X importtime -c "import unspin.repair" 2>&1 | grep -E '\| +(kenlm|numpy)$'; then
    echo "import unspin.repair loaded KenLM or numpy"; exit 1
fi
"$WORK/venv/bin/python" - "$REPO" <<'PY'
import json, sys
from pathlib import Path
import unspin
from unspin.pack import default_pack_path, load

repo = Path(sys.argv[1]).resolve()
report = json.loads(Path("check.json").read_text())
assert report["verdict"] == "spun" and report["spans"], report.get("verdict")
repaired = Path("repaired.txt").read_text()
assert repaired.strip() and "MINIFYHTML" not in repaired
where = Path(unspin.__file__).resolve()
pack = default_pack_path().resolve()
assert repo not in where.parents, f"unspin imported from the checkout: {where}"
assert "site-packages" in str(pack) and pack.name == "unspin_pack_en", f"pack found at {pack}"
fast = load().lm.compiled
print(f"check: verdict {report['verdict']}, score {report['score']}, {len(report['spans'])} spans; "
      f"repair: {len(repaired)} chars; pack {load().label} at {pack}")
print(f"fast path (compiled extension) in this venv: {'present' if fast else 'ABSENT: pure-Python path'}")
PY
t3=$(date +%s)
echo "wheel-check: passed (build $((t1 - t0)) s, install $((t2 - t1)) s, run $((t3 - t2)) s)"
