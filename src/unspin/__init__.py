"""unspin: find, explain and undo machine "spinning" in text.

The Python API mirrors the command line: ``repair`` undoes extraction damage, ``check`` says whether
and where a text was spun, with the likely originals, and ``restore`` gives the restored text.
``repair`` and ``check`` return a :class:`~unspin.report.Report`. ``check(text, phrases=...)`` also
matches the user's phrase lists (``load_phrases``: compile once, pass the `PhraseList` to every call).

Importing unspin is light: the engine (KenLM, numpy, the language pack) and the phrase matcher load
on first use of ``check``, ``restore`` or ``load_phrases``, so ``unspin repair`` and a pipeline that
only repairs never pay for them. Nothing here touches the host's environment; thread limits are set
only in the worker processes unspin starts itself (``unspin.workers``).
"""

__version__ = "0.1.0"

from .repair import repair, repair_text
from .report import Repair, Report, Span

__all__ = [
    "PhraseList", "PhraseListError", "Repair", "Report", "Span", "check", "load_phrases", "repair", "repair_text",
    "restore",
]  # fmt: skip

_ENGINE = ("check", "restore")
_PHRASES = ("PhraseList", "PhraseListError", "load_phrases")


def __getattr__(name: str):
    # PEP 562: `unspin.check` imports the decoder, `unspin.load_phrases` the matcher, on first use only.
    if name in _ENGINE:
        from . import decode

        return getattr(decode, name)
    if name in _PHRASES:
        from . import phrases

        return getattr(phrases, name)
    raise AttributeError(f"module 'unspin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_ENGINE, *_PHRASES])
