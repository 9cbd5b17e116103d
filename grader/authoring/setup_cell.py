"""The first cell of every notebook: on Colab, install the helper; elsewhere, nothing.

The cell is written into the source notebooks and the tour (notebooks/00_start_here)
from course.toml by `python -m grader release`, so the helper's address is set in one
place. When the install fails, the cell stops with what pip said and what to do.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from ..course import NOTEBOOKS, SOURCE_DIR, START_HERE, course_settings

GRADE_ID = "colab_setup"
TEMPLATE = """\
# Setup: leave this cell as it is. On Google Colab, when this notebook was uploaded on
# its own, it installs the course's helper module (with the data); numpy, matplotlib,
# ipywidgets and tqdm come with Colab. Anywhere else it does nothing.
import importlib
import importlib.util
import os
import subprocess
import sys

HELPER_URL = os.environ.get(
    "BACKPROP_HELPER_URL",
    "{url}",
)
ON_COLAB = bool(
    importlib.util.find_spec("google") and importlib.util.find_spec("google.colab")
)
if ON_COLAB and not importlib.util.find_spec("backprop_helper"):
    pip_command = ["pip", "install", "--quiet", "--no-color", "--no-deps", HELPER_URL]
    pip_run = subprocess.run(  # TERM=dumb: pip's words without the kernel's colours
        [sys.executable, "-m", *pip_command],
        capture_output=True,
        text=True,
        env={{**os.environ, "TERM": "dumb"}},
    )
    importlib.invalidate_caches()
    if not importlib.util.find_spec("backprop_helper"):
        pip_said = (pip_run.stderr + pip_run.stdout).strip()[-2000:] or "(nothing)"
        raise RuntimeError(
            "The course's helper module (backprop_helper) could not be installed, so "
            "the next cells cannot run.\\n"
            f"Tried: {{' '.join(pip_command)}}\\n"
            f"pip's exit code: {{pip_run.returncode}}; pip said:\\n{{pip_said}}\\n\\n"
            "What to do: check that the runtime is connected (top right of the page) "
            "and run this cell again. If pip reports a network error, wait a minute "
            "and try again. If it reports 404 (not found), or the same error comes "
            "back, send this message to your instructor: the helper's address in "
            "this cell may be out of date."
        )"""


def setup_source() -> str:
    """The setup cell's code for the helper address in course.toml."""
    return TEMPLATE.format(url=course_settings()["colab"]["helper_url"])


def setup_cell() -> nbformat.NotebookNode:
    """The setup cell, read-only for nbgrader."""
    cell = nbformat.v4.new_code_cell(setup_source())
    cell.id = GRADE_ID
    cell.metadata["nbgrader"] = {
        "grade": False, "solution": False, "locked": True,
        "grade_id": GRADE_ID, "schema_version": 3,
    }  # fmt: skip
    return cell


def setup_cell_notebooks() -> list[Path]:
    """The notebooks that open with the setup cell: the sources, then the tour."""
    return [*(SOURCE_DIR / f"{stem}.ipynb" for stem in NOTEBOOKS), START_HERE]


def stale_setup_cells() -> list[str]:
    """Notebooks whose first cell is not the current setup cell."""
    stale = []
    for path in setup_cell_notebooks():
        cells = nbformat.read(path, as_version=4).cells
        if not cells or cells[0].source != setup_source():
            stale.append(path.name)
    return stale


def write_setup_cells() -> list[str]:
    """Put the current setup cell first in each notebook; return the changed."""
    changed = []
    for path in setup_cell_notebooks():
        notebook = nbformat.read(path, as_version=4)
        first = notebook.cells[0] if notebook.cells else None
        grade_id = first.metadata.get("nbgrader", {}).get("grade_id") if first else None
        if grade_id == GRADE_ID and first.source == setup_source():
            continue
        if grade_id == GRADE_ID:
            notebook.cells[0] = setup_cell()
        else:
            notebook.cells.insert(0, setup_cell())
        nbformat.write(notebook, path)
        changed.append(path.name)
    return changed
