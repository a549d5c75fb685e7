"""The pack has an identity (a hash of its files), one cached loader, and what records a pack refuses another."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from unspin.pack import LanguagePack, load, pack_identity
from unspin.trace import IndexError_, open_index


@pytest.fixture(scope="module")
def pack() -> LanguagePack:
    return load()


def test_identity_is_a_content_hash_of_the_files(pack: LanguagePack) -> None:
    ident = pack.identity
    assert len(ident) == 16 and int(ident, 16) >= 0
    assert pack.label == f"pack-en@{ident}"
    # Same content, same identity, wherever the manifest came from ...
    assert pack_identity(dict(pack.manifest)) == ident
    # ... and one changed file gives another identity.
    files = {k: dict(v) for k, v in pack.manifest["files"].items()}
    files["lm.bin"]["sha256"] = "0" * 64
    assert pack_identity({**pack.manifest, "files": files}) != ident
    # Metadata that is not content (creation time, a path) does not change it.
    assert pack_identity({**pack.manifest, "created": "another day"}) == ident


def test_one_cached_loader(pack: LanguagePack) -> None:
    assert load() is pack
    assert load(pack.path) is pack
    assert load(str(pack.path) + "/") is pack


def test_index_records_the_pack_and_refuses_another(tmp_path: Path, pack: LanguagePack) -> None:
    with open_index(tmp_path / "idx", pack, create=True):
        pass
    db = next((tmp_path / "idx").glob("*.sqlite*"))
    recorded = dict(sqlite3.connect(db).execute("SELECT key, value FROM meta"))["pack"]
    assert recorded == pack.label and "?" not in recorded
    files = {k: dict(v) for k, v in pack.manifest["files"].items()}
    files["lm.bin"]["sha256"] = "f" * 64
    other = dataclasses.replace(pack, manifest={**pack.manifest, "files": files})
    with pytest.raises(IndexError_, match="rebuild the index"):
        open_index(tmp_path / "idx", other)


def test_channel_cache_key_ignores_parts_the_channel_does_not_read(pack: LanguagePack) -> None:
    """A new spinner table or licence text changes the pack's identity but not the channel table's key
    (rebuilding that table costs minutes); a changed thesaurus changes both."""
    from unspin.decode.channel_cache import CHANNEL_PARTS

    def with_file(name: str, sha: str) -> dict:
        files = {k: dict(v) for k, v in pack.manifest["files"].items()}
        files[name] = {"bytes": 1, "sha256": sha}
        return {**pack.manifest, "files": files}

    base = pack_identity(pack.manifest, CHANNEL_PARTS)
    table = with_file("spinner-table.json", "1" * 64)
    assert pack_identity(table) != pack.identity
    assert pack_identity(table, CHANNEL_PARTS) == base
    assert pack_identity(with_file("thesaurus/terms.npy", "2" * 64), CHANNEL_PARTS) != base
