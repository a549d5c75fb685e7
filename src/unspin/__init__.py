"""unspin: find, explain and undo machine "spinning" in text.

The Python API mirrors the command line: ``repair`` undoes extraction damage, ``check`` says whether
and where a text was spun, with the likely originals, and ``restore`` gives the restored text.
``repair`` and ``check`` return a :class:`~unspin.report.Report`.
"""

from .decode import check, restore
from .repair import repair, repair_text
from .report import Repair, Report, Span

__all__ = ["Repair", "Report", "Span", "check", "repair", "repair_text", "restore"]
__version__ = "0.1.0"
