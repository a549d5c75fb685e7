"""unspin: find, explain and undo machine "spinning" in text.

The Python API mirrors the command line: ``repair`` undoes extraction damage; later stages add
``check``, ``restore`` and ``trace``. Every function returns a :class:`~unspin.report.Report`.
"""

from .repair import repair, repair_text
from .report import Repair, Report, Span

__all__ = ["Repair", "Report", "Span", "repair", "repair_text"]
__version__ = "0.1.0"
