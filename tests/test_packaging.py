"""Where an installed unspin finds its pack and the pack builder its tools: from arguments and the
environment, or the installed pack package; the checkout's layout only as the last resort."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import unspin
from unspin.pack import CHECKOUT_PACK, checkout_root, default_pack_path

SRC = str(Path(unspin.__file__).resolve().parents[1])
REPO = Path(SRC).parent


def _where(env_extra: dict[str, str], path_first: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("UNSPIN_PACK", "PYTHONPATH")}
    env.update(env_extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (path_first, SRC) if p)
    code = "from unspin.pack import default_pack_path; print(default_pack_path())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


def test_an_installed_pack_package_is_found_and_unspin_pack_wins(tmp_path: Path) -> None:
    site = tmp_path / "site"
    pkg = site / "unspin_pack_en"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "manifest.json").write_text(json.dumps({"name": "pack-en"}))
    assert Path(_where({}, str(site))) == pkg
    assert _where({"UNSPIN_PACK": str(tmp_path / "mine")}, str(site)) == str(tmp_path / "mine")
    # without the package (or with an empty one), the checkout's folder
    (pkg / "manifest.json").unlink()
    assert Path(_where({}, str(site))) == CHECKOUT_PACK


def test_the_default_in_a_checkout_is_the_checkouts_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNSPIN_PACK", raising=False)
    assert checkout_root() == REPO
    assert default_pack_path() == CHECKOUT_PACK == REPO / "src" / "unspin" / "data" / "pack-en"


def test_the_builder_takes_its_tools_and_sources_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unspin.pack import build

    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("lmplz", "build_binary"):
        (tools / name).write_text("#!/bin/sh\n")
        (tools / name).chmod(0o755)
    monkeypatch.setenv("UNSPIN_KENLM_BIN", str(tools))
    monkeypatch.setenv("UNSPIN_PACK_SOURCES", str(tmp_path / "sources"))
    assert build.kenlm_tools() == tools
    assert build.default_sources() == tmp_path / "sources"
    # not set, and not in a checkout: lmplz on $PATH
    monkeypatch.setattr(build, "checkout_root", lambda: None)
    monkeypatch.delenv("UNSPIN_KENLM_BIN")
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    assert build.kenlm_tools() == tools


def test_outside_a_checkout_the_builder_asks_instead_of_guessing(monkeypatch: pytest.MonkeyPatch) -> None:
    from unspin.pack import build

    monkeypatch.setattr(build, "checkout_root", lambda: None)
    monkeypatch.delenv("UNSPIN_PACK_SOURCES", raising=False)
    monkeypatch.delenv("UNSPIN_KENLM_BIN", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(FileNotFoundError, match="UNSPIN_PACK_SOURCES"):
        build.default_sources()
    with pytest.raises(FileNotFoundError, match="UNSPIN_KENLM_BIN"):
        build.kenlm_tools()


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_third_party_import_is_declared() -> None:
    """Each module src/ imports that is not the standard library's comes from a distribution that
    pyproject declares (a dependency, or an extra for the optional paths: ray, datatrove, build)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for reqs in project["optional-dependencies"].values() for r in reqs}
    imported: set[str] = set()
    for path in (REPO / "src" / "unspin").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in ("unspin", "__future__")}
    dists = packages_distributions()
    missing = {m: dists.get(m) for m in third_party if not {_name(d) for d in dists.get(m, [])} & declared}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    assert "tqdm" in third_party and "kenlm" in third_party  # the scan sees what it must


def test_the_code_wheel_leaves_the_pack_out() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert not any("pack-en" in p or "**" in p for p in project["tool"]["setuptools"]["package-data"]["unspin"])
    assert project["build-system"]["requires"] == ["setuptools>=77"]  # PEP 639 licence fields need 77
    for private in ("lemminflect", "ftfy"):  # their internals are used: an upper bound
        spec = next(d for d in project["project"]["dependencies"] if d.startswith(private))
        assert "<" in spec, spec
    assert (REPO / "LICENSE").read_text().lstrip().startswith("Apache License")
