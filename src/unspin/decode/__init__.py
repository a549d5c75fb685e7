"""Detect and restore: the noisy-channel decoder over a language pack (docs/ARCHITECTURE.md §1).

``channel``  which originals can become an observed word or phrase, and how likely;
``decoder``  the beam search for the most probable original, with per-decision confidences;
``detect``   document verdicts, calibrated on clean text, and the cheap screening mode;
``engine``   check() and restore(): repair → tokens → decode → report.
"""

from .engine import check, restore

__all__ = ["check", "restore"]
