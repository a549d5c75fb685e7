"""Language packs: everything the engine knows about a language, in one versioned folder.

A pack holds an n-gram language model (KenLM binary), a vocabulary with frequencies, a thesaurus graph
(words and phrases, both directions, inflection-aware), word vectors and distributional substitutes
(which words fill the same slots in the corpus), plus a manifest. All of it is
memory-mapped on load, so `LanguagePack.load` costs milliseconds and the resident memory is only what
queries touch. Packs are built by `unspin pack build` (see `build.py`); a default English pack ships
in ``src/unspin/data/pack-en``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .lm import NgramModel
from .manifest import read_manifest
from .substitutes import Substitutes
from .thesaurus import Thesaurus
from .vectors import Vectors
from .vocab import Vocabulary

__all__ = ["LanguagePack", "default_pack_path"]


def default_pack_path() -> Path:
    """The pack used when none is named: $UNSPIN_PACK, else the one shipped with unspin."""
    env = os.environ.get("UNSPIN_PACK")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data" / "pack-en"


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

    @classmethod
    def load(cls, path: Path | str | None = None) -> LanguagePack:
        """Open a pack folder by memory-mapping its files (no parsing)."""
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
