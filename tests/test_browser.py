"""The solved notebooks in a real browser: JupyterLab and Notebook 7 in Chromium.

A student's clicks, end to end: Run → Run All Cells from the app's own menu, Ctrl+S,
then the saved file is read back from disk; the eps and learning-rate sliders are
dragged with the mouse and must redraw their one plot. Screenshots go to
artifacts/screenshots/; UPDATE_DOCS_SCREENSHOT=1 also rewrites
docs/05_optimizers.png, the picture the README shows.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect, sync_playwright

from grader.course import NOTEBOOKS, REPO
from tests.browser import (
    APPS,
    CHROMIUM,
    SCREENSHOTS,
    JupyterServer,
    Session,
    drag_slider,
    launch_chromium,
    plot_images,
    settle,
    slider,
    widget_cell,
    write_course_folder,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DOCS_SCREENSHOT = REPO / "docs" / "05_optimizers.png"


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for these tests; a missing one is a failure."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make setup-dev` (it installs Debian's "
            "chromium) before the browser tests",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module", params=sorted(APPS))
def session(request, browser, tmp_path_factory):
    """A server for one app on a folder of solved notebooks, with a browser context;
    module-scoped, so its kernels are gone before the other suites run."""
    app = APPS[request.param]
    root = tmp_path_factory.mktemp(f"{app.name}-course")
    write_course_folder(root)
    server = JupyterServer(app, root, tmp_path_factory.mktemp(f"{app.name}-state"))
    try:
        server.start()
        session = Session(server, browser)
        try:
            yield session
        finally:
            session.close()
    finally:
        server.stop()


def cell_name(index: int, cell: nbformat.NotebookNode) -> str:
    """The cell's nbgrader grade_id, or its position."""
    return cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")


def code_cells(
    notebook: nbformat.NotebookNode,
) -> list[tuple[str, nbformat.NotebookNode]]:
    """(name, cell) for every code cell."""
    return [
        (cell_name(index, cell), cell)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
    ]


def errors(notebook: nbformat.NotebookNode) -> list[tuple[str, str, str]]:
    """(cell name, exception name, message) of every error output."""
    return [
        (name, output.ename, output.evalue)
        for name, cell in code_cells(notebook)
        for output in cell.outputs
        if output.output_type == "error"
    ]


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_run_all_from_the_menu_runs_every_cell_without_error(session, stem):
    """Run → Run All Cells, Ctrl+S: the saved file has every code cell executed.

    Read back from disk, no code cell has an error output and none lacks an
    execution count (Run All stops at the first error, so both are checked).
    """
    run = session.run(stem)
    found = errors(run.saved)
    assert found == [], f"{session.app.name} ran {stem} into {found}"
    unexecuted = [
        name for name, cell in code_cells(run.saved) if cell.execution_count is None
    ]
    assert unexecuted == [], f"{session.app.name} left {stem}'s {unexecuted} unrun"
    assert run.settled, f"{stem}: the kernel still looked busy after Run All"
    menus = run.page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert "Nbgrader" not in menus, "a student's install has no nbgrader menu"

    if (
        stem == "05_optimizers"
        and session.app.name == "lab"
        and os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1"
    ):
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        widget_cell(run.page, "learning rate").screenshot(path=DOCS_SCREENSHOT)


SLIDERS = {
    # id: (stem, slider label, handle position to drag to, readout before, after)
    "eps": ("04_gradient_checking", "eps", -8, "1.0e-6", "1.0e-8"),
    "learning-rate": ("05_optimizers", "learning rate", -2, "1.0e-3", "1.0e-2"),
}


@pytest.mark.parametrize(
    ("stem", "label", "position", "before", "after"),
    list(SLIDERS.values()),
    ids=list(SLIDERS),
)
def test_dragging_a_slider_redraws_its_single_plot(
    session, stem, label, position, before, after
):
    """Dragging the slider with the mouse changes its readout and reruns the
    student's code: the plot under it changes, and the Output still holds exactly
    one image (each redraw replaces the last; figures do not pile up).
    """
    run = session.run(stem)
    found = errors(run.saved)
    assert found == [], f"Run All stopped before the slider: {found}"
    page = run.page
    cell = widget_cell(page, label)
    expect(cell).to_have_count(1)
    readout = slider(page, label).locator(".widget-readout")
    images = plot_images(cell)
    expect(readout).to_have_text(before)
    expect(images).to_have_count(1)
    original = images.get_attribute("src")
    assert original.startswith("data:image/png;base64,")

    drag_slider(page, label, position)
    expect(readout).to_have_text(after)
    expect(images.first).not_to_have_attribute("src", original, timeout=60_000)
    assert settle(page, images, timeout=60), f"{label}: the plot kept changing"
    shown = images.count()
    assert shown == 1, f"{label}: {shown} images in the Output after the redraw"
    assert images.get_attribute("src") != original
    name = f"{session.app.name}-{stem}-{label.replace(' ', '-')}.png"
    cell.screenshot(path=SCREENSHOTS / name)


def processes_mentioning(text: str) -> list[str]:
    """Command lines of the running processes whose arguments contain text."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().replace(b"\0", b" ")
        except OSError:  # the process ended while we looked
            continue
        if text.encode() in arguments:
            found.append(arguments.decode(errors="replace"))
    return found


@pytest.mark.parametrize("app", sorted(APPS))
def test_stopping_the_server_leaves_no_kernel_running(app, tmp_path):
    """A kernel started through the server is gone once the server is stopped."""
    root = tmp_path / "course"
    root.mkdir()
    server = JupyterServer(APPS[app], root, tmp_path / "state")
    runtime = server.env["JUPYTER_RUNTIME_DIR"]
    try:
        server.start()
        server.api("POST", "/api/kernels")
        assert len(server.running_kernels()) == 1
        assert processes_mentioning(runtime), "the kernel process was not found"
    finally:
        server.stop()
    assert processes_mentioning(runtime) == []
