"""Language packs: everything the engine knows about a language, in one versioned folder.

A pack holds an n-gram language model (KenLM binary), a vocabulary with frequencies, a thesaurus graph
(words and phrases, both directions, inflection-aware), word vectors and distributional substitutes
(which words fill the same slots in the corpus), plus a manifest. All of it is
memory-mapped on load, so `LanguagePack.load` costs milliseconds and the resident memory is only what
queries touch. Packs are built by `unspin pack build` (see `build.py`); the default English pack lives in
``src/unspin/data/pack-en`` and installs as its own package, ``unspin-pack-en``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .manifest import read_manifest

if TYPE_CHECKING:  # the parts import KenLM and numpy: loaded by `LanguagePack.load`, not on import
    from .lm import NgramModel
    from .substitutes import Substitutes
    from .thesaurus import Thesaurus
    from .vectors import Vectors
    from .vocab import Vocabulary

__all__ = ["LanguagePack", "checkout_root", "default_pack_path", "load", "pack_identity"]


#: The English pack inside a checkout. It is not in the code wheel: ``pip install`` gets it as the
#: ``unspin-pack-en`` package (packages/unspin-pack-en), which installs it as ``unspin_pack_en``.
CHECKOUT_PACK = Path(__file__).resolve().parent.parent / "data" / "pack-en"


def default_pack_path() -> Path:
    """The pack used when none is named: $UNSPIN_PACK, else the installed ``unspin_pack_en`` package,
    else the checkout's ``src/unspin/data/pack-en``."""
    env = os.environ.get("UNSPIN_PACK")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("unspin_pack_en")
    if spec is not None and spec.submodule_search_locations:
        installed = Path(next(iter(spec.submodule_search_locations)))
        if (installed / "manifest.json").is_file():
            return installed
    return CHECKOUT_PACK


def checkout_root() -> Path | None:
    """The repository's root when unspin runs from a checkout (``src/`` layout), else None: the pack
    builder's defaults for its tools and sources exist only there (an install passes them explicitly)."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "unspin").is_dir() else None


def pack_identity(manifest: dict, parts: tuple[str, ...] | None = None) -> str:
    """A pack's identity: a hash of its name and its files' SHA-256 (the manifest's file table), so two
    packs with the same content have the same identity wherever they lie, and a rebuilt or edited
    pack has another. Indexes, batch runs and caches record it and refuse a pack that is not theirs."""
    files = {
        name: entry["sha256"]
        for name, entry in sorted(manifest.get("files", {}).items())
        if parts is None or name.startswith(parts)
    }
    blob = json.dumps({"name": manifest.get("name"), "format": manifest.get("format"), "files": files}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class LanguagePack:
    """A loaded pack; see the module docstring."""

    path: Path
    manifest: dict
    lm: NgramModel
    vocab: Vocabulary
    thesaurus: Thesaurus
    vectors: Vectors
    #: Distributional substitutes (None in packs built before they existed).
    substitutes: Substitutes | None = None
    #: Per-pack memos (channel originals, unigram costs, vector index ...): they hang on the pack, so
    #: one process can use two packs without one answering for the other.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def identity(self) -> str:
        """See `pack_identity`."""
        return pack_identity(self.manifest)

    @property
    def label(self) -> str:
        """``name@identity``: what indexes and batch runs record and what `unspin pack info` shows."""
        return f"{self.manifest.get('name', self.path.name)}@{self.identity}"

    @classmethod
    def load(cls, path: Path | str | None = None) -> LanguagePack:
        """Open a pack folder by memory-mapping its files (no parsing)."""
        from .lm import NgramModel
        from .substitutes import Substitutes
        from .thesaurus import Thesaurus
        from .vectors import Vectors
        from .vocab import Vocabulary

        p = Path(path) if path is not None else default_pack_path()
        manifest = read_manifest(p)
        return cls(
            path=p,
            manifest=manifest,
            lm=NgramModel(p / "lm.bin"),
            vocab=Vocabulary(p / "vocab"),
            thesaurus=Thesaurus(p / "thesaurus", manifest["thesaurus"]["max_phrase_words"]),
            vectors=Vectors(p / "vectors"),
            substitutes=Substitutes(p / "substitutes") if (p / "substitutes").is_dir() else None,
        )


def load(path: Path | str | None = None) -> LanguagePack:
    """The one way to get a pack: loaded once per process and folder (memory-mapped: milliseconds)."""
    p = Path(path) if path is not None else default_pack_path()
    return _load_resolved(str(p.resolve()))


@lru_cache(maxsize=4)
def _load_resolved(path: str) -> LanguagePack:
    return LanguagePack.load(path)
