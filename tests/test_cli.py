"""The command line as a user meets it: a real process, real files, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from unspin.repair import repair_text

from .conftest import EXAMPLE


def run(*args: str, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "unspin", *args], input=stdin, capture_output=True, timeout=300, env=env
    )


def test_repair_prints_repaired_text() -> None:
    p = run("repair", str(EXAMPLE))
    assert p.returncode == 0
    assert p.stdout.decode() == repair_text(EXAMPLE.read_text(encoding="utf-8"))[0]
    assert p.stderr == b""  # not a terminal: no colour, no summary


def test_repair_reads_stdin_and_json() -> None:
    p = run("repair", "--json", "-", stdin=b"Turkey &#39;hits&#39;")
    assert p.returncode == 0
    report = json.loads(p.stdout)
    assert report["repaired"] == "Turkey 'hits'"
    assert [r["before"] for r in report["repairs"]] == ["&#39;", "&#39;"]


def test_color_output_keeps_the_text() -> None:
    p = run("repair", "--color", str(EXAMPLE))
    assert p.returncode == 0
    assert b"\x1b[" in p.stdout
    assert b"repairs:" in p.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, b"no such file"),
        (b"", b"is empty"),
        (b"  \n\t\n", b"is empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 4, b"binary"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes | None, message: bytes) -> None:
    path = tmp_path / "input.txt"
    if content is not None:
        path.write_bytes(content)
    for args in (["repair", str(path)], ["repair", "--json", str(path)]):
        p = run(*args)
        assert p.returncode == 2
        assert message in p.stderr
        assert p.stderr.count(b"\n") == 1 and b"Traceback" not in p.stderr
        assert p.stdout == b""


def test_directory_is_refused(tmp_path: Path) -> None:
    p = run("repair", str(tmp_path))
    assert p.returncode == 2 and b"is a directory" in p.stderr


def test_invalid_utf8_is_decoded_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("café &amp; bar\n".encode("latin-1"))
    for args in (["repair", str(path)], ["repair", "--json", str(path)]):
        p = run(*args)
        assert p.returncode == 0
        assert b"not valid UTF-8" in p.stderr and p.stderr.count(b"\n") == 1
        assert "caf\ufffd & bar" in p.stdout.decode()


def test_huge_file_json_refuses(tmp_path: Path) -> None:
    # 100 MB: --json must hold the whole text and its offsets, so it refuses with the documented limit.
    big = tmp_path / "huge.txt"
    big.write_bytes(b"a clean line of text\n" * (5 * 1024 * 1024))  # 105 MB
    p = run("repair", "--json", str(big))
    assert p.returncode == 2 and b"MB limit" in p.stderr and p.stdout == b"" and p.stderr.count(b"\n") == 1


# Runs one command and prints its exit code and peak resident memory: RUSAGE_CHILDREN is the maximum
# over all waited-for children, so a fresh wrapper with a single child gives that child's own figure.
_PEAK_RSS = """
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    code = subprocess.run(sys.argv[2:], stdout=out).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)  # Linux: KiB
"""


def test_large_file_streams(tmp_path: Path) -> None:
    # Plain repair streams, so a file over the one-document limit still goes through, in bounded memory.
    path = tmp_path / "large.txt"
    clean = b"The minister said no to the plan, and the quota stayed as it was in 2019.\n" * 999
    damaged = b"The minister said &#39;no&#39; to the plan.\n"
    blocks = 96 * 1024 * 1024 // len(clean)
    with path.open("wb") as fh:
        for _ in range(blocks):
            fh.write(clean + damaged)
    out = tmp_path / "out.txt"
    cmd = [sys.executable, "-m", "unspin", "repair", str(path)]
    q = subprocess.run([sys.executable, "-c", _PEAK_RSS, str(out), *cmd], capture_output=True, timeout=600)
    assert q.returncode == 0, q.stderr
    code, peak = map(int, q.stdout.split())
    assert code == 0, q.stderr
    assert out.stat().st_size == path.stat().st_size - 8 * blocks
    with out.open("rb") as fh:
        fh.seek(len(clean))
        assert fh.readline() == b"The minister said 'no' to the plan.\n"
    # Reading the whole ~100 MB file (let alone decoding it) would take more than its size; streaming
    # takes the interpreter and the repair code (~40 MB) whatever the size.
    assert peak < path.stat().st_size // 2, f"peak RSS {peak >> 20} MiB for a {path.stat().st_size >> 20} MiB input"


def test_usage_errors_exit_2() -> None:
    p = run("repair", "--no-such-flag")
    assert p.returncode == 2
