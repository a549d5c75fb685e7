"""--phrases in the command line and in batch (local pool and a real Ray instance): real processes, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TEXT = "The team trained counterfeit\nconsciousness models with profound  learning on hospital records, the study says."
LIST = "counterfeit consciousness\tartificial intelligence\tour test list\nprofound learning\tdeep learning\n"
OTHER = "bosom peril\tbreast cancer\n"


def run(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "unspin", *args], input=stdin, capture_output=True, text=True, timeout=300, env=full
    )


@pytest.fixture
def lists(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    a.write_text(LIST, encoding="utf-8")
    b.write_text(OTHER, encoding="utf-8")
    return a, b


def listed(report: dict) -> list[tuple[str, str | None]]:
    return [(s["text"], s["original"]) for s in report["spans"] if s.get("source") == "list"]


def test_check_json_with_two_lists(lists, tmp_path: Path) -> None:
    a, b = lists
    p = run("check", "--json", "--phrases", str(a), "--phrases", str(b), "-", stdin=TEXT + " Bosom peril too.")
    assert p.returncode == 1, p.stderr  # spun
    report = json.loads(p.stdout)
    assert listed(report) == [
        ("counterfeit\nconsciousness", "artificial intelligence"),
        ("profound  learning", "deep learning"),
        ("Bosom peril", "Breast cancer"),
    ]
    assert report["verdict"] == "spun"
    first = next(s for s in report["spans"] if s.get("source") == "list")
    assert first["why"].startswith("listed in a.tsv:1:") and first["confidence"] == 1.0
    assert TEXT[first["start"] : first["end"]] == "counterfeit\nconsciousness"
    plain = run("check", "--phrases", str(a), "-", stdin=TEXT)
    assert "profound  learning[→ deep learning · listed]" in plain.stdout


def test_restore_and_the_environment_variable(lists) -> None:
    a, b = lists
    both = {"UNSPIN_PHRASES": f"{a}{os.pathsep}{b}"}
    p = run("restore", "-", stdin="We use profound learning. Bosom peril.", env=both)
    assert p.returncode == 0, p.stderr
    assert "deep learning" in p.stdout and "Breast cancer" in p.stdout
    # --phrases replaces the environment's lists.
    p = run("restore", "--phrases", str(b), "-", stdin="We use profound learning.", env={"UNSPIN_PHRASES": str(a)})
    assert "profound learning" in p.stdout


def test_a_bad_list_is_one_line_per_problem_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("fine phrase\tgood phrase\nno original\t\nsame\tSame\n", encoding="utf-8")
    p = run("check", "--phrases", str(bad), "-", stdin=TEXT)
    assert p.returncode == 2
    assert p.stderr.splitlines() == [
        "unspin: error: bad.tsv:2: empty original (write - for an unknown original)",
        "unspin: error: bad.tsv:3: 'same' is its own original",
    ]
    p = run("check", "--phrases", str(tmp_path / "missing.tsv"), "-", stdin=TEXT)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "cannot read the phrase list" in p.stderr
    assert "Traceback" not in p.stderr


def _records(path: Path, n: int = 40) -> Path:
    rows = []
    for i in range(n):
        text = TEXT if i % 3 == 0 else f"Record {i}: the harbour reopened on Tuesday after the storm, officials said."
        rows.append(json.dumps({"id": f"r{i}", "text": text}))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_batch_local_pool_takes_the_lists_and_resumes_only_with_the_same_content(lists, tmp_path: Path) -> None:
    a, _ = lists
    src = _records(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    p = run("batch", str(src), str(out), "--workers", "2", "--phrases", str(a))
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 40
    for i, row in enumerate(rows):
        assert bool(listed(row)) == (i % 3 == 0), row["id"]
        if i % 3 == 0:
            assert row["spun"] and "artificial intelligence" in row["restored"]
    # The run's settings hold the lists' content hash: a changed list does not resume old parts.
    parts = out.with_name(out.name + ".parts")
    parts.mkdir()
    (parts / "run.json").write_text(json.dumps({"inputs": [str(src.resolve())], "phrases": "0" * 16}))
    p = run("batch", str(src), str(out), "--workers", "1", "--phrases", str(a))
    assert p.returncode == 2 and "different batch command" in p.stderr


def test_batch_on_ray_gives_the_local_output(lists, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'unspin[ray]'); CI installs it")
    a, _ = lists
    src = _records(tmp_path / "in.jsonl")
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert run("batch", str(src), str(local), "--workers", "1", "--phrases", str(a)).returncode == 0
    p = run("batch", str(src), str(on_ray), "--workers", "2", "--engine", "ray", "--phrases", str(a))
    assert p.returncode == 0, p.stderr[-2000:]
    assert on_ray.read_bytes() == local.read_bytes()
    assert sum(bool(listed(json.loads(x))) for x in on_ray.read_text(encoding="utf-8").splitlines()) == 14


def test_phrases_mine_then_check_with_the_mined_list(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    rows = [
        {
            "spun_text": "We apply counterfeit consciousness to scans.",
            "source_text": "We apply artificial intelligence to scans.",
        },
        {"spun_text": "Counterfeit consciousness helps.", "source_text": "Artificial intelligence helps."},
    ]
    pairs.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n" + json.dumps({"x": 1}) + "\n")
    out = tmp_path / "mined.tsv"
    p = run("phrases", "mine", str(pairs), "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == [
        f"unspin: warning: {pairs}:3: not JSON (Expecting property name enclosed in double quotes); skipped",
        f"unspin: warning: {pairs}:4: needs text fields 'spun_text' and 'source_text'; skipped",
        "unspin phrases mine: 1 entries, 2 lines skipped",
    ]
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[1] == "counterfeit consciousness\tartificial intelligence\tseen 2× in 2 pair(s)"
    assert run("phrases", "check", str(out)).stdout.startswith("1 entry (")
    p = run("restore", "--phrases", str(out), "-", stdin="Counterfeit consciousnesses are here.")
    assert p.stdout.startswith("Artificial intelligence")
