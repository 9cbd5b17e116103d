"""Each notebook runs top to bottom alone, in a folder with only it and the helper;
its visible checks fail, naming the mistake, wherever its graded tests take points."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from backprop_helper.mistakes import recognise
from nbclient import NotebookClient

from grader.course import HELPER_PACKAGE, NOTEBOOKS, RELEASE_DIR, REPO, SOURCE_DIR
from tests.mistake_cases import (
    CORRECT_VARIANTS,
    MISTAKE_CASES,
    STAGE_INDEPENDENCE,
    MistakeCase,
    variant_answers,
)
from tests.notebook_code import CellRun, code_cells, run_cells
from tests.realistic import REALISTIC


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


@pytest.mark.slow
@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_source_notebook_runs_clean_and_passes_every_check(stem, tmp_path):
    """The instructor's notebook: no errors, no failed check, every plot drawn."""
    notebook = run_alone(SOURCE_DIR / f"{stem}.ipynb", tmp_path)
    assert errors(notebook) == []
    assert "✗" not in printed(notebook)
    assert images(notebook), "every notebook draws at least one figure"


@pytest.mark.slow
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


@pytest.mark.slow
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


# --- the checks catch what the graded tests catch (run here, in this process) --------


def _named(runs: dict[str, CellRun], cells) -> set[tuple[str, str]]:
    """(mistake id, key) of every mistake the failing cells' messages name."""
    return {
        (found.mistake.id, found.key)
        for grade_id, run in runs.items()
        if grade_id in cells and run.error is not None
        for found in recognise(run.message)
        if found.mistake is not None
    }


def _names_it(named: set[tuple[str, str]], case: MistakeCase) -> bool:
    return any(
        mistake == case.mistake and (not case.key or key == case.key)
        for mistake, key in named
    )


@pytest.mark.parametrize("case", MISTAKE_CASES, ids=lambda case: case.student)
def test_visible_checks_fail_and_name_every_catalogued_mistake(case):
    """With the mistake made, a check cell of the notebook fails and names it
    (by its catalogue id, on the same key the graded tests name): a student who sees
    every check pass loses no points to it."""
    runs = run_cells(case.notebook, case.answers(), hidden=False)
    checks = {grade_id for grade_id in runs if grade_id.startswith("check")}
    failed = sorted(grade_id for grade_id in checks if runs[grade_id].error)
    assert failed, f"no check of {case.notebook} fails"
    named = _named(runs, checks)
    assert _names_it(named, case), (case.mistake, case.key, sorted(named))


@pytest.mark.parametrize("case", MISTAKE_CASES, ids=lambda case: case.student)
def test_graded_tests_lose_exactly_the_cells_the_mistake_costs_and_name_it(case):
    """The graded tests run as stock nbgrader runs them (after the student's code,
    in its namespace): exactly the case's lost cells fail, the first names the mistake.
    (test_autograde.py grades the same cases through nbgrader and the grader.)"""
    runs = run_cells(case.notebook, case.answers(), hidden=True)
    graded = {gid for gid, meta, _ in code_cells(case.notebook) if meta.get("grade")}
    failed = {grade_id for grade_id in graded if runs[grade_id].error is not None}
    assert failed == set(case.lost)
    first = runs[case.lost[0]]
    assert _names_it(_named({first.grade_id: first}, {first.grade_id}), case), (
        first.message
    )


@pytest.mark.parametrize("student, stem", CORRECT_VARIANTS, ids=str)
def test_correct_work_written_differently_passes_every_check_and_test(student, stem):
    """Correct answers in other styles (pure Python, vectorized, lists, a dispatch
    table) pass every visible check and every graded test."""
    answers = variant_answers(CORRECT_VARIANTS[(student, stem)])
    runs = run_cells(stem, answers, hidden=True)
    assert {gid: run.message for gid, run in runs.items() if run.error} == {}


@pytest.mark.parametrize("student, stem", STAGE_INDEPENDENCE, ids=str)
def test_wrong_pasted_work_is_flagged_but_costs_no_points(student, stem):
    """Wrong functions pasted from earlier notebooks: the cell that checks the pasted
    functions says so (or the check that uses them fails), the graded tests pass."""
    runs = run_cells(stem, STAGE_INDEPENDENCE[(student, stem)](), hidden=True)
    failed = {gid for gid, run in runs.items() if run.error is not None}
    assert failed and all(gid.startswith("check") for gid in failed), failed
    if "check_pasted" in runs:
        assert "check_pasted" in failed


@pytest.mark.parametrize("case", REALISTIC, ids=lambda case: case.student)
def test_a_realistic_mistake_fails_a_check_before_it_costs_a_point(case):
    """Mistakes beside the catalogue (most not in it): a check cell fails, saying
    what differs or naming the mistake, before the first graded cell that takes
    points; or no graded cell takes any."""
    runs = run_cells(case.notebook, case.answers(), hidden=True)
    order = list(runs)
    lost = [gid for gid, meta, _ in code_cells(case.notebook)
            if meta.get("grade") and runs[gid].error is not None]  # fmt: skip
    if not lost:
        return
    failed = [gid for gid in order if gid.startswith("check") and runs[gid].error]
    assert failed, f"{case.what}: costs {lost} and no check fails"
    assert order.index(failed[0]) < order.index(lost[0]), (failed, lost)
    findings = recognise(runs[failed[0]].message)
    assert findings, runs[failed[0]].message
