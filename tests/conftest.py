"""Shared test fixtures: where the repository and the shared evaluation data are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UNSPIN_SHARED", REPO.parent / "shared"))
SEED = SHARED / "examples" / "seed-spun-news.txt"
EXAMPLE = REPO / "examples" / "spun-news.txt"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared data not found at {SHARED}")
