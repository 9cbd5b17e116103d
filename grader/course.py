"""Where the course lives: its directories, assignment id and notebooks."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import nbformat

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
COURSE_FILE = REPO / "course.toml"


def course_settings() -> dict:
    """The course's online addresses from course.toml (see the comments there)."""
    with COURSE_FILE.open("rb") as file:
        return tomllib.load(file)


def colab_link(stem: str) -> str:
    """The "Open in Colab" address of one released notebook."""
    base = course_settings()["colab"]["notebook_base_url"].rstrip("/")
    return f"{base}/release/{ASSIGNMENT}/{stem}.ipynb"


def graded_cells(stem: str) -> dict[str, float]:
    """grade_id -> points of each graded cell of one source notebook, in order."""
    return dict(_graded_cells(stem))


@cache
def _graded_cells(stem: str) -> tuple[tuple[str, float], ...]:
    """graded_cells, read from disk once per process."""
    notebook = nbformat.read(SOURCE_DIR / f"{stem}.ipynb", as_version=4)
    meta = [cell.metadata.get("nbgrader", {}) for cell in notebook.cells]
    return tuple(
        (m["grade_id"], float(m.get("points", 0))) for m in meta if m.get("grade")
    )


def notebook_points(stem: str) -> float:
    """The points one notebook is worth."""
    return sum(graded_cells(stem).values())
