"""unspin: find, explain and undo machine "spinning" in text.

The Python API mirrors the command line: ``repair`` undoes extraction damage, ``check`` says whether
and where a text was spun, with the likely originals, and ``restore`` gives the restored text.
``repair`` and ``check`` return a :class:`~unspin.report.Report`. ``check(text, phrases=...)`` also
matches the user's phrase lists (``load_phrases``: compile once, pass the `PhraseList` to every call).
"""

import os

# The engine's only BLAS work is small matrix-vector products (vector neighbours): a multi-threaded
# BLAS pool costs more than it saves and spins against other workers (measured in bench/batch.py).
# Set before numpy is first imported; an explicit setting by the user wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from .decode import check, restore  # noqa: E402
from .phrases import PhraseList, PhraseListError, load_phrases  # noqa: E402
from .repair import repair, repair_text  # noqa: E402
from .report import Repair, Report, Span  # noqa: E402

__all__ = [
    "PhraseList", "PhraseListError", "Repair", "Report", "Span", "check", "load_phrases", "repair", "repair_text",
    "restore",
]  # fmt: skip
__version__ = "0.1.0"
