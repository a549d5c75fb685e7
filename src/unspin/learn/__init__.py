"""Learning from real spinners: align (spun page, source) pairs, count what spinners swap, build the
pack's learned spinner table (`table.py`), and fit the span calibration (`spans.py`).

Build-time code: the engine reads only what these modules write into the pack and ``data/``.
"""
