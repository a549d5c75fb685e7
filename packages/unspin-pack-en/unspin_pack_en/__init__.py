"""The English language pack for unspin, installed as a package: this folder is the pack.

``unspin.pack.default_pack_path()`` finds it here when $UNSPIN_PACK is not set. Its files (manifest,
lm.bin, vocab/, thesaurus/, vectors/, substitutes/) and their licences (LICENSES.md) are copied into the
wheel from unspin's src/unspin/data/pack-en when the wheel is built.
"""

from pathlib import Path

__all__ = ["path"]


def path() -> Path:
    """The pack's folder (pass it to ``unspin.pack.load`` or set $UNSPIN_PACK to it)."""
    return Path(__file__).resolve().parent
