"""`unspin batch --engine ray` on a real local Ray instance: same output as the local engine, resumable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'unspin[ray]'); CI installs it")

from unspin.batch import CHUNK, Parts, run_settings

TEXT = (
    "The harbour authority said on Tuesday that {n} cargo ships were delayed by the storm. Captain Mira Olsen, "
    "who leads the pilots, said the waves reached nine metres near the breakwater, and that repairs to the "
    "northern quay would take until March."
)


def _input(path: Path, n: int = 90) -> Path:
    lines = [json.dumps({"id": f"r{i}", "text": TEXT.format(n=i)}) for i in range(n)]
    lines[10] = "{broken json"
    lines[20] = json.dumps({"id": "no-text", "body": "x"})
    lines[30] = json.dumps({"id": "empty", "text": "   "})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _batch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "unspin", "batch", *args], capture_output=True, text=True)


def test_ray_engine_gives_the_local_engines_output_and_resumes_its_run(tmp_path: Path) -> None:
    src = _input(tmp_path / "in.jsonl")
    local, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert _batch(str(src), str(local), "--workers", "1").returncode == 0
    run = _batch(str(src), str(ray_out), "--workers", "2", "--engine", "ray")
    assert run.returncode == 0, run.stderr[-2000:]
    assert ray_out.read_bytes() == local.read_bytes()
    rows = [json.loads(line) for line in ray_out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 90 and len({r["id"] for r in rows}) == 90
    errors = {r["id"]: r["error"] for r in rows if "error" in r}
    assert set(errors) == {"in.jsonl:line-11", "no-text", "empty"}
    assert "malformed JSON" in errors["in.jsonl:line-11"]

    # Resume across engines: a local run that committed only its first part (as if killed), then
    # the same command on Ray finishes it; the result equals the uninterrupted run's, byte for byte.
    half = tmp_path / "half.jsonl"
    settings = run_settings([str(src)])
    first_part = [json.loads(x) for x in local.read_text(encoding="utf-8").splitlines()[:CHUNK]]
    Parts(half, settings).commit(0, first_part)
    again = _batch(str(src), str(half), "--workers", "2", "--engine", "ray")
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{CHUNK} already done" in again.stderr
    assert half.read_bytes() == local.read_bytes()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray Data's own, from its DataContext
def test_ray_engine_over_several_windows_commits_every_chunk_once(tmp_path: Path) -> None:
    # The CLI's window (WINDOW chunks) is larger than any test input, so call the engine with a window
    # of 2 on 5 chunks: three windows (2, 2, 1), each a fresh Ray Data pipeline and actor pool.
    from itertools import groupby

    from unspin.batch.ray_engine import run_on_ray
    from unspin.batch.sources import read_records

    src = _input(tmp_path / "in.jsonl", n=4 * CHUNK + 5)
    local = tmp_path / "local.jsonl"
    assert _batch(str(src), str(local), "--workers", "1", "--fast").returncode == 0
    records = read_records([str(src)], "text", "id")
    todo = ((no, list(group)) for no, group in groupby(records, key=lambda r: r.index // CHUNK))
    committed: list[tuple[int, list[dict]]] = []
    run_on_ray(todo, lambda no, rows: committed.append((no, rows)), "fast", None, None, workers=2, window=2)
    assert sorted(no for no, _ in committed) == [0, 1, 2, 3, 4], "every chunk committed exactly once"
    rows = [row for _, chunk_rows in sorted(committed, key=lambda c: c[0]) for row in chunk_rows]
    assert rows == [json.loads(line) for line in local.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 4 * CHUNK + 5 and len({r["id"] for r in rows}) == len(rows)


def test_ray_engine_serves_a_sharded_index_with_the_traces_of_one_index(tmp_path: Path) -> None:
    from tests.test_trace import COPY, REFS

    refs = tmp_path / "refs.jsonl"
    refs.write_text(
        "".join(
            json.dumps({"id": f"{k}-{i}", "text": v + f" Item {i}."}) + "\n"
            for i in range(5)
            for k, v in REFS.items()
            # No near-duplicates of the copy's source: a copy that five references match equally
            # well is not confidently any one's (the margin over the runner-up decides).
            if k != "harbour"
        )
        + json.dumps({"id": "harbour", "text": REFS["harbour"]})
        + "\n",
        encoding="utf-8",
    )
    one, many = str(tmp_path / "one"), str(tmp_path / "many")
    build = [sys.executable, "-m", "unspin", "index", "build", str(refs), "--workers", "1"]
    assert subprocess.run([*build, "--index", one], capture_output=True).returncode == 0
    assert subprocess.run([*build, "--index", many, "--shards", "2"], capture_output=True).returncode == 0
    src = tmp_path / "in.jsonl"
    texts = [COPY, REFS["library"], "Volcanic ash grounded flights across the archipelago for a week."]
    lines = [json.dumps({"id": f"q{i}", "text": t}) + "\n" for i, t in enumerate(texts)]
    src.write_text("".join(lines), encoding="utf-8")
    local, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run = _batch(str(src), str(local), "--workers", "1", "--index", one)
    assert run.returncode == 0, run.stderr[-2000:]
    run = _batch(str(src), str(ray_out), "--workers", "2", "--engine", "ray", "--index", many)
    assert run.returncode == 0, run.stderr[-2000:]
    assert ray_out.read_bytes() == local.read_bytes()
    rows = [json.loads(line) for line in ray_out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["trace"][0]["id"] == "harbour" and rows[0]["trace"][0]["is_source"]
