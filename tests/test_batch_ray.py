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
