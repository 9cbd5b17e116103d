"""The first cell of every notebook: on Colab, install the helper; elsewhere, nothing.

The cell is written into the source notebooks from course.toml by
`python -m grader release`, so the helper's address is set in one place.
"""

from __future__ import annotations

import nbformat

from ..course import Course

GRADE_ID = "colab_setup"
TEMPLATE = """\
# Setup: leave this cell as it is. On Google Colab, when this notebook was uploaded on
# its own, it installs the course's helper module (with the data); numpy, matplotlib,
# ipywidgets and tqdm come with Colab. Anywhere else it does nothing.
import importlib
import importlib.util
import os

HELPER_URL = os.environ.get(
    "BACKPROP_HELPER_URL",
    "{url}",
)
ON_COLAB = bool(
    importlib.util.find_spec("google") and importlib.util.find_spec("google.colab")
)
if ON_COLAB and not importlib.util.find_spec("backprop_helper"):
    %pip install --quiet --no-deps {{HELPER_URL}}
    importlib.invalidate_caches()"""


def setup_source(course: Course) -> str:
    """The setup cell's code for the helper address in the course's course.toml."""
    return TEMPLATE.format(url=course.settings()["colab"]["helper_url"])


def setup_cell(course: Course) -> nbformat.NotebookNode:
    """The course's setup cell, read-only for nbgrader."""
    cell = nbformat.v4.new_code_cell(setup_source(course))
    cell.id = GRADE_ID
    cell.metadata["nbgrader"] = {
        "grade": False, "solution": False, "locked": True,
        "grade_id": GRADE_ID, "schema_version": 3,
    }  # fmt: skip
    return cell


def stale_setup_cells(course: Course) -> list[str]:
    """Source notebooks whose first cell is not the current setup cell."""
    stale = []
    source = setup_source(course)
    for stem in course.notebooks:
        path = course.source_dir / f"{stem}.ipynb"
        cells = nbformat.read(path, as_version=4).cells
        if not cells or cells[0].source != source:
            stale.append(f"{stem}.ipynb")
    return stale


def write_setup_cells(course: Course) -> list[str]:
    """Put the current setup cell first in each source notebook; return the changed."""
    changed = []
    source = setup_source(course)
    for stem in course.notebooks:
        path = course.source_dir / f"{stem}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        first = notebook.cells[0] if notebook.cells else None
        grade_id = first.metadata.get("nbgrader", {}).get("grade_id") if first else None
        if grade_id == GRADE_ID and first.source == source:
            continue
        if grade_id == GRADE_ID:
            notebook.cells[0] = setup_cell(course)
        else:
            notebook.cells.insert(0, setup_cell(course))
        nbformat.write(notebook, path)
        changed.append(path.name)
    return changed
