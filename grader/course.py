"""Where the course lives: its directories, assignment id and notebooks."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "backprop"
SOURCE_DIR = REPO / "source" / ASSIGNMENT
RELEASE_DIR = REPO / "release" / ASSIGNMENT
CONFIG_FILE = REPO / "nbgrader_config.py"
HELPER_PACKAGE = "backprop_helper"
NOTEBOOKS = (
    "01_sigmoid",
    "02_forward_propagation",
    "03_backward_propagation",
    "04_gradient_checking",
    "05_optimizers",
)
