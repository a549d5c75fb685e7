"""Importing unspin is light and leaves the host's environment alone (code review §1, items 5 and 6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import unspin
from unspin.workers import THREAD_VARS, spawning_workers, worker_env

SRC = str(Path(unspin.__file__).resolve().parents[1])
HEAVY = ("kenlm", "numpy", "fastapi", "pydantic", "pyarrow")


def _python(code: str, *flags: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in THREAD_VARS} if env is None else env
    base["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, base.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True, env=base, check=True)


def test_import_unspin_repair_loads_neither_kenlm_nor_numpy() -> None:
    out = _python("import unspin.repair", "-X", "importtime").stderr
    loaded = {line.rsplit("|", 1)[-1].strip() for line in out.splitlines() if "|" in line}
    assert "unspin.repair" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_repair_command_path_stays_light() -> None:
    code = (
        "import sys, json, unspin, unspin.cli, unspin.repair\n"
        "from unspin.cli import cli\n"
        "cli.get_command(None, 'repair')\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert json.loads(_python(code).stdout) == []


def test_the_engine_loads_on_first_use() -> None:
    code = (
        "import sys, unspin\n"
        "assert 'kenlm' not in sys.modules\n"
        "from unspin import check\n"
        "assert check is unspin.decode.check and 'kenlm' in sys.modules\n"
        "assert 'restore' in dir(unspin)\n"
        "try:\n    unspin.nothing_here\nexcept AttributeError as e:\n    print(e)"
    )
    assert "has no attribute 'nothing_here'" in _python(code).stdout


def test_importing_the_engine_writes_no_environment_variable() -> None:
    code = (
        "import os, json\n"
        "before = dict(os.environ)\n"
        "import unspin, unspin.decode, unspin.cli, unspin.batch, unspin.trace\n"
        "print(json.dumps(sorted(set(os.environ.items()) ^ set(before.items()))))"
    )
    assert json.loads(_python(code).stdout) == []


def test_workers_get_one_blas_thread_and_the_host_keeps_its_own(monkeypatch) -> None:
    for var in THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's choice wins
    env = worker_env()
    assert env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1" and env["OMP_NUM_THREADS"] == "3"
    with spawning_workers():
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["OMP_NUM_THREADS"] == "3"
        child = subprocess.run(
            [sys.executable, "-c", "import os; print(os.environ['OPENBLAS_NUM_THREADS'])"],
            capture_output=True, text=True, check=True,
        )
        assert child.stdout.strip() == "1"
    assert "OPENBLAS_NUM_THREADS" not in os.environ and os.environ["OMP_NUM_THREADS"] == "3"
