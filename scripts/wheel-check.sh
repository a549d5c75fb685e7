#!/usr/bin/env bash
# Install unspin as a pip user gets it, and run it: build the code wheel and the English pack's wheel,
# install them into a fresh venv with only their declared dependencies (from the package index), and
# run `unspin check --json` and `unspin repair` on the shipped example from outside the checkout.
# Asserts: the code wheel is under 2 MB and carries LICENSE, KenLM's licence files and the compiled
# extension; the pack wheel carries its licence files; the installed unspin finds the installed pack
# (not the checkout's) and its own compiled extension (`unspin pack info`); the example is flagged.
# Then, when the evaluation data is there (../shared or $UNSPIN_SHARED), prints the screening mode's
# speed (bench/engine.py --speed-only --fast-only) from that venv beside the checkout's.
#
#   bash scripts/wheel-check.sh            (make wheel-check)
#   WHEEL_CHECK_DIR=/tmp/wc bash scripts/wheel-check.sh   to keep the venv and wheels for a look
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PYTHON=${PYTHON:-python3}
# A relative path (PYTHON=.venv/bin/python, as make passes it) must still work after the cd below.
[[ "$PYTHON" != */* ]] || PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")"
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
for need in ("licenses/third_party/kenlm/LICENSE", "licenses/third_party/kenlm/COPYING"):
    assert any(n.endswith(need) for n in names), f"the code wheel lacks {need}"
assert any(n.startswith("unspin/pack/_kenlm_batch.") and n.endswith(".so") for n in names), \
    "the code wheel lacks the compiled extension"
clic = next(line for line in code.read(next(n for n in names if n.endswith("METADATA"))).decode().splitlines()
            if line.startswith("License-Expression:"))
assert "Apache-2.0" in clic and "LGPL-2.1-or-later" in clic, clic
pnames = pack.namelist()
for need in ("licenses/LICENSE", "licenses/LICENSES.md", "unspin_pack_en/LICENSES.md", "unspin_pack_en/manifest.json"):
    assert any(n.endswith(need) for n in pnames), f"the pack wheel lacks {need}"
meta = pack.read(next(n for n in pnames if n.endswith("METADATA"))).decode()
lic = next(line for line in meta.splitlines() if line.startswith("License-Expression:"))
assert "CC-BY-SA-3.0" in lic and "PDDL-1.0" in lic and "WordNet" in lic, lic
print(f"code wheel {size / 1e6:.2f} MB, {len(names)} files ({clic}); pack wheel "
      f"{sum(i.compress_size for i in pack.infolist()) / 1e6:.1f} MB, {len(pnames)} files ({lic})")
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
# The same report as the checkout's: a data file left out of the wheel (the span scorer, the trace
# calibration) changes the answers without failing anything.
(cd "$REPO" && PYTHONPATH="$REPO/src" "$PYTHON" -m unspin check --json examples/spun-news.txt > "$WORK/check-checkout.json") || true
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
ours = json.loads(Path("check-checkout.json").read_text())
for key in ("score", "spans", "restored", "repairs"):
    assert report[key] == ours[key], f"the installed unspin's {key} differ from the checkout's (a file missing from the wheel?)"
repaired = Path("repaired.txt").read_text()
assert repaired.strip() and "MINIFYHTML" not in repaired
where = Path(unspin.__file__).resolve()
pack = default_pack_path().resolve()
assert repo not in where.parents, f"unspin imported from the checkout: {where}"
assert "site-packages" in str(pack) and pack.name == "unspin_pack_en", f"pack found at {pack}"
import subprocess
import unspin.pack._kenlm_batch as ext
info = json.loads(subprocess.run([sys.executable, "-m", "unspin", "pack", "info", "--json"], capture_output=True,
                                 text=True, check=True).stdout)
assert info["compiled"] is True, "unspin pack info: the compiled extension is missing"
assert repo not in Path(ext.__file__).resolve().parents, f"extension imported from the checkout: {ext.__file__}"
print(f"check: verdict {report['verdict']}, score {report['score']}, {len(report['spans'])} spans; "
      f"repair: {len(repaired)} chars; pack {load().label} at {pack}")
print(f"fast path (compiled extension) in this venv: present, {Path(ext.__file__).name}")
PY
t3=$(date +%s)

SHARED=${UNSPIN_SHARED:-$REPO/../shared}
if [ -d "$SHARED/dev" ]; then
    SHARED=$(cd "$SHARED" && pwd)
    echo "== check --fast speed: this venv vs the checkout (bench/engine.py --speed-only --fast-only, one core)"
    UNSPIN_SHARED=$SHARED "$WORK/venv/bin/python" "$REPO/bench/engine.py" --speed-only --fast-only > speed-wheel.json
    (cd "$REPO" && UNSPIN_SHARED=$SHARED PYTHONPATH="$REPO/src" "$PYTHON" bench/engine.py --speed-only --fast-only) \
        > speed-checkout.json
    "$PYTHON" - <<'PY'
import json
w, c = (json.load(open(f))["speed"] for f in ("speed-wheel.json", "speed-checkout.json"))
for label, s in (("wheel venv", w), ("checkout", c)):
    print(f"  {label:<10}  check --fast {s['fast_median']['mb_per_s']:.2f} MB/s (median of "
          f"{s['fast_median']['passes']} passes over {s['bytes']:,} bytes; load {s['load_avg_1m']})")
PY
else
    echo "== check --fast speed: skipped (no evaluation data at $SHARED)"
fi
t4=$(date +%s)
echo "wheel-check: passed (build $((t1 - t0)) s, install $((t2 - t1)) s, run $((t3 - t2)) s, speed $((t4 - t3)) s)"
