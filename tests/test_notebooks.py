"""Each notebook runs top to bottom alone, in a folder with only it and the helper."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from grader.course import HELPER_PACKAGE, NOTEBOOKS, RELEASE_DIR, REPO, SOURCE_DIR

pytestmark = pytest.mark.slow


def run_alone(notebook_path, tmp_path) -> nbformat.NotebookNode:
    """Execute a copy of the notebook next to a copy of the helper; return it run."""
    shutil.copytree(SOURCE_DIR / HELPER_PACKAGE, tmp_path / HELPER_PACKAGE)
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    return notebook


def errors(notebook: nbformat.NotebookNode) -> list[tuple[str, str, str]]:
    """(grade_id or cell index, error name, message) for every cell that raised."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                name = cell.metadata.get("nbgrader", {}).get("grade_id", str(index))
                found.append((name, output.ename, output.evalue))
    return found


def printed(notebook: nbformat.NotebookNode) -> str:
    """Everything the notebook's cells printed."""
    return "".join(
        output.text
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )


def images(notebook: nbformat.NotebookNode) -> list[str]:
    """PNGs shown by cells, directly or inside a widget's Output (its saved state)."""
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    saved = notebook.metadata.get("widgets", {})
    state = saved.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for model in state.values():
        outputs.extend(model.get("state", {}).get("outputs", []))
    return [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_source_notebook_runs_clean_and_passes_every_check(stem, tmp_path):
    """The instructor's notebook: no errors, no failed check, every plot drawn."""
    notebook = run_alone(SOURCE_DIR / f"{stem}.ipynb", tmp_path)
    assert errors(notebook) == []
    assert "✗" not in printed(notebook)
    assert images(notebook), "every notebook draws at least one figure"


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_release_notebook_fails_only_where_code_is_missing(stem, tmp_path):
    """A student's fresh copy: the only errors come from the unwritten answers."""
    notebook = run_alone(RELEASE_DIR / f"{stem}.ipynb", tmp_path)
    found = errors(notebook)
    assert found, "an unanswered notebook cannot pass its checks"
    expected = {"NotImplementedError", "NameError"}
    assert {name for _, name, _ in found} <= expected, found
    setup = [error for error in found if error[0] == "setup"]
    assert setup == [], "the setup cell must run before any answer is written"


def test_start_here_notebook_runs(tmp_path):
    """The tour in notebooks/ runs from its own folder in the repository."""
    notebook = nbformat.read(REPO / "notebooks" / "00_start_here.ipynb", as_version=4)
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO / "notebooks")}},
    ).execute()
    assert errors(notebook) == []
