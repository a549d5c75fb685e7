"""The compiled extension, ``unspin.pack._kenlm_batch``: the only implementation of the tokenizer, the
sentence splitter, the eligibility and language-gate loops, the screening pass, the window gains and
the batched n-gram scorer (sources: ``pack/ext``; built by ``setup.py`` in every install).

Imported on first use, not with ``unspin``: it lives in ``unspin.pack``, whose import loads KenLM and
numpy, and ``unspin repair`` needs neither. Without it unspin cannot run: one clear error, never a
slower path.
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["MISSING", "ExtensionMissing", "available", "module"]

MISSING = (
    "unspin's compiled extension (unspin.pack._kenlm_batch) is missing or does not load; reinstall unspin "
    "(pip install --force-reinstall unspin; from a checkout: make setup)"
)


class ExtensionMissing(ImportError):
    """The compiled extension is not installed, or was built for another Python."""


# The extension's API_VERSION this code was written against (kenlm_batch.cc sets it): an in-place build
# left from older sources (a checkout updated without `make setup`) is refused, not half used.
API_VERSION = 2

_MODULE: list[ModuleType] = []


def module() -> ModuleType:
    """The extension module; `ExtensionMissing` when it cannot be imported or was built from other sources."""
    if not _MODULE:
        try:
            from .pack import _kenlm_batch  # type: ignore[attr-defined]
        except ImportError as exc:
            raise ExtensionMissing(f"{MISSING}: {exc}") from exc
        built = getattr(_kenlm_batch, "API_VERSION", 1)
        if built != API_VERSION:
            raise ExtensionMissing(f"{MISSING}: {_kenlm_batch.__file__} was built from other sources "
                                   f"(API {built}, this unspin needs {API_VERSION})")
        _MODULE.append(_kenlm_batch)
    return _MODULE[0]


def available() -> bool:
    """Whether the extension loads (for `unspin pack info`)."""
    try:
        module()
    except ExtensionMissing:
        return False
    return True
