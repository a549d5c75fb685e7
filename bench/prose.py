"""How well ``unspin.prose.looks_like_code`` separates code from prose (issue 16, item 9).

Prints the share of code files marked as code (this repository's Python files, /usr/include/*.h,
each whole and its first 6 KB) and the share of prose texts wrongly marked (the held-out Wikipedia
articles of the pack's corpus, ../shared/dev/clean-news.jsonl), with the highest prose scores.

    .venv/bin/python bench/prose.py
"""

from __future__ import annotations

import glob
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from unspin.prose import CODE_SHARE, MIN_LINES, code_share  # noqa: E402

SHARED = REPO.parent / "shared"


def _report(name: str, texts: list[tuple[str, str]], want_code: bool) -> None:
    short = [n for n, t in texts if sum(1 for line in t.splitlines() if line.strip()) < MIN_LINES]
    if want_code and short:  # too short to tell, and too short for the gate to judge (too-short)
        name += f" (less {len(short)} of under {MIN_LINES} lines: {', '.join(Path(n).name for n in short)})"
        texts = [(n, t) for n, t in texts if n not in short]
    scores = sorted(((code_share(t), n) for n, t in texts), reverse=want_code is False)
    marked = sum(s >= CODE_SHARE for s, _ in scores)
    what = "marked as code" if want_code else "WRONGLY marked as code"
    print(f"{name}: {marked}/{len(texts)} {what} ({marked / max(1, len(texts)):.1%})")
    edge = scores[:3]
    print("   " + ("lowest" if want_code else "highest") + ": " + ", ".join(f"{n} {s:.2f}" for s, n in edge))


def main() -> None:
    py = sorted(p for d in ("src", "tests", "bench", "scripts") for p in (REPO / d).rglob("*.py"))
    py_texts = [(str(p.relative_to(REPO)), p.read_text(encoding="utf-8")) for p in py]
    names = sorted(glob.glob("/usr/include/*.h"))
    headers = [(p, Path(p).read_text(encoding="utf-8", errors="replace")) for p in names]
    _report("python files of this repository", [(n, t) for n, t in py_texts if t.strip()], True)
    _report("python files, first 6 KB", [(n, t[:6144]) for n, t in py_texts if t.strip()], True)
    _report("/usr/include/*.h", [(n, t) for n, t in headers if t.strip()], True)
    _report("/usr/include/*.h, first 6 KB", [(n, t[:6144]) for n, t in headers if t.strip()], True)
    from unspin.pack.corpus import held_out_articles

    wiki = [(a["id"], a["text"]) for a in held_out_articles()]
    _report("held-out Wikipedia articles", wiki, False)
    news = SHARED / "dev" / "clean-news.jsonl"
    if news.exists():
        rows = [json.loads(line) for line in news.read_text(encoding="utf-8").splitlines() if line.strip()]
        _report("clean news (shared/dev)", [(r["id"], r["text"]) for r in rows], False)
    for extra in sorted((SHARED / "dev").glob("*pairs.jsonl")):
        rows = [json.loads(line) for line in extra.read_text(encoding="utf-8").splitlines() if line.strip()]
        texts = [(f"{r.get('id', i)}:{k}", r[k]) for i, r in enumerate(rows) for k in r if isinstance(r[k], str)
                 and len(r[k]) > 200]  # fmt: skip
        _report(f"{extra.name} texts", texts, False)


if __name__ == "__main__":
    main()
