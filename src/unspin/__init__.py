"""unspin: find, explain and undo machine "spinning" in text.

The Python API mirrors the command line: ``repair`` undoes extraction damage, ``check`` says whether
and where a text was spun, with the likely originals, and ``restore`` gives the restored text.
``repair`` and ``check`` return a :class:`~unspin.report.Report`.

Importing unspin is light: the engine (KenLM, numpy, the language pack) loads on first use of
``check`` or ``restore``, so ``unspin repair`` and a pipeline that only repairs never pay for it.
Nothing here touches the host's environment; thread limits are set only in the worker processes
unspin starts itself (``unspin.workers``).
"""

__version__ = "0.1.0"

from .repair import repair, repair_text
from .report import Repair, Report, Span

__all__ = ["Repair", "Report", "Span", "check", "repair", "repair_text", "restore"]

_ENGINE = ("check", "restore")


def __getattr__(name: str):
    # PEP 562: `unspin.check` imports the decoder on first use only.
    if name in _ENGINE:
        from . import decode

        return getattr(decode, name)
    raise AttributeError(f"module 'unspin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_ENGINE])
