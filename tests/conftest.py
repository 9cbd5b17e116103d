"""Shared test setup: a headless matplotlib and the helper package on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
HELPER_PARENT = REPO / "source" / "backprop"

if str(HELPER_PARENT) not in sys.path:
    sys.path.insert(0, str(HELPER_PARENT))
