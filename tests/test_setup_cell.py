"""The Colab setup cell and links: rendered from course.toml into every notebook."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import nbformat
import pytest

import grader.authoring.setup_cell
import grader.course
from grader.authoring import wheel
from grader.authoring.setup_cell import (
    GRADE_ID,
    setup_source,
    stale_setup_cells,
    write_setup_cells,
)
from grader.course import (
    ASSIGNMENT,
    COURSE_FILE,
    HELPER_PACKAGE,
    NOTEBOOKS,
    RELEASE_DIR,
    REPO,
    SOURCE_DIR,
    START_HERE,
    course_settings,
)

# The notebooks with an "Open in Colab" link: the tour, then the five released ones.
LINKED = (START_HERE.stem, *NOTEBOOKS)


def colab_link(stem: str) -> str:
    """The "Open in Colab" address of the tour or of one released notebook, from
    course.toml."""
    base = course_settings()["colab"]["notebook_base_url"].rstrip("/")
    if stem == START_HERE.stem:
        return f"{base}/{START_HERE.relative_to(REPO).as_posix()}"
    return f"{base}/release/{ASSIGNMENT}/{stem}.ipynb"


NOTEBOOK_FILES = [
    *(
        pytest.param(folder / f"{stem}.ipynb", id=f"{folder.parent.name}/{stem}")
        for folder in (SOURCE_DIR, RELEASE_DIR)
        for stem in NOTEBOOKS
    ),
    pytest.param(START_HERE, id=f"notebooks/{START_HERE.stem}"),
]
# Every notebook that opens with the setup cell, by file name.
SETUP_CELL_NAMES = [*(f"{stem}.ipynb" for stem in NOTEBOOKS), START_HERE.name]
# The default address in the cell: os.environ.get("BACKPROP_HELPER_URL", "<url>")
DEFAULT_URL = re.compile(r'os\.environ\.get\(\s*"BACKPROP_HELPER_URL",\s*"([^"]*)"')
COLAB_URL = re.compile(r"https?://colab\.research\.google\.com[^\s)<>\]\"'`]*")
NEW_HELPER_URL = "https://example.org/v2/backprop_helper-2.0.0-py3-none-any.whl"
NEW_BASE_URL = "https://colab.research.google.com/github/someone/fork/blob/main"


def first_cell(path: Path) -> nbformat.NotebookNode:
    """The first cell of a notebook on disk."""
    return nbformat.read(path, as_version=4).cells[0]


def first_nb(folder: Path, stem: str) -> nbformat.NotebookNode:
    """One notebook of a folder."""
    return nbformat.read(folder / f"{stem}.ipynb", as_version=4)


@pytest.mark.parametrize("path", NOTEBOOK_FILES)
def test_first_cell_is_the_current_setup_cell(path):
    """Every source and released notebook opens with exactly the setup cell that
    course.toml renders now."""
    cell = first_cell(path)
    assert cell.cell_type == "code"
    assert cell.source == setup_source()


@pytest.mark.parametrize("path", NOTEBOOK_FILES)
def test_setup_cell_is_a_locked_ungraded_nbgrader_cell(path):
    """The setup cell is read-only for nbgrader (locked, neither graded nor an
    answer), so students cannot change it and autograde restores it."""
    meta = first_cell(path).metadata.get("nbgrader", {})
    assert meta.get("grade_id") == GRADE_ID
    assert meta.get("locked") is True
    assert meta.get("grade") is False
    assert meta.get("solution") is False


def test_setup_cell_installs_course_toml_helper_url_without_dependencies():
    """The cell's default address is course.toml's helper_url, BACKPROP_HELPER_URL
    overrides it, and pip (the kernel's own, as %pip runs it) installs only that file
    (--no-deps), quietly."""
    source = setup_source()
    assert DEFAULT_URL.findall(source) == [course_settings()["colab"]["helper_url"]]
    (install,) = [line for line in source.splitlines() if '"pip", "install"' in line]
    assert install.strip() == (
        'pip_command = ["pip", "install", "--quiet", "--no-color", "--no-deps", '
        "HELPER_URL]"
    )
    assert '[sys.executable, "-m", *pip_command]' in source
    assert '"BACKPROP_HELPER_URL"' in source


def test_helper_url_names_the_wheel_that_make_wheel_builds():
    """course.toml's helper_url ends in the file name `make wheel` produces from
    the helper's project file (name and version), so a published build matches the
    address."""
    project = tomllib.loads(wheel.PROJECT_FILE.read_text())["project"]
    name = project["name"].replace("-", "_")
    expected = f"{name}-{project['version']}-py3-none-any.whl"
    assert wheel.wheel_name() == expected
    url = course_settings()["colab"]["helper_url"]
    assert PurePosixPath(urlsplit(url).path).name == expected


def test_no_setup_cell_is_stale():
    """stale_setup_cells() finds nothing: the committed notebooks match course.toml."""
    assert stale_setup_cells() == []


@pytest.fixture
def edited_course(tmp_path, monkeypatch):
    """A function that writes a copy of course.toml with one key of [colab] changed
    and makes grader.course read it instead of the real file."""

    def edit(key: str, value: str) -> None:
        text = COURSE_FILE.read_text()
        old = course_settings()["colab"][key]
        assert text.count(f'"{old}"') == 1
        copy = tmp_path / "course.toml"
        copy.write_text(text.replace(f'"{old}"', f'"{value}"'))
        monkeypatch.setattr(grader.course, "COURSE_FILE", copy)

    return edit


def test_new_helper_url_makes_every_setup_cell_stale(edited_course):
    """Changing course.toml's helper_url changes the rendered cell, and
    stale_setup_cells() then reports every source notebook and the tour."""
    edited_course("helper_url", NEW_HELPER_URL)
    assert DEFAULT_URL.findall(setup_source()) == [NEW_HELPER_URL]
    assert stale_setup_cells() == SETUP_CELL_NAMES


def test_new_notebook_base_url_changes_links_but_not_setup_cells(edited_course):
    """notebook_base_url feeds only the Colab links: changing it leaves every setup
    cell current and moves colab_link to the new base."""
    edited_course("notebook_base_url", NEW_BASE_URL + "/")
    assert stale_setup_cells() == []
    assert colab_link("01_sigmoid") == (
        f"{NEW_BASE_URL}/release/{ASSIGNMENT}/01_sigmoid.ipynb"
    )


def test_write_setup_cells_refreshes_every_notebook_once(
    edited_course, tmp_path, monkeypatch
):
    """On a copy of the source notebooks and the tour: after a URL change
    write_setup_cells() rewrites each notebook's first cell in place (no second
    setup cell), the copies are then current, and a second call changes nothing."""
    copy = tmp_path / "source"
    shutil.copytree(SOURCE_DIR, copy, ignore=shutil.ignore_patterns(HELPER_PACKAGE))
    shutil.copy2(START_HERE, copy / START_HERE.name)
    monkeypatch.setattr(grader.authoring.setup_cell, "SOURCE_DIR", copy)
    monkeypatch.setattr(
        grader.authoring.setup_cell, "START_HERE", copy / START_HERE.name
    )
    edited_course("helper_url", NEW_HELPER_URL)
    stems = [*NOTEBOOKS, START_HERE.stem]
    before = {stem: len(first_nb(copy, stem).cells) for stem in stems}

    assert write_setup_cells() == SETUP_CELL_NAMES
    assert stale_setup_cells() == []
    assert write_setup_cells() == []
    for stem in stems:
        cells = first_nb(copy, stem).cells
        assert len(cells) == before[stem]
        assert cells[0].source == setup_source()
        assert cells[0].metadata["nbgrader"]["grade_id"] == GRADE_ID


def test_colab_link_points_at_the_released_notebook_or_the_tour():
    """colab_link(stem) is notebook_base_url + /release/backprop/<stem>.ipynb, or
    + /notebooks/00_start_here.ipynb for the tour: a file in the repository."""
    base = course_settings()["colab"]["notebook_base_url"].rstrip("/")
    expected = {START_HERE.stem: START_HERE} | {
        stem: RELEASE_DIR / f"{stem}.ipynb" for stem in NOTEBOOKS
    }
    for stem in LINKED:
        link = colab_link(stem)
        assert link.startswith(base + "/")
        relative = link.removeprefix(base + "/")
        assert (REPO / relative) == expected[stem]
        assert (REPO / relative).is_file()


README = REPO / "README.md"


@pytest.mark.parametrize("stem", LINKED)
def test_readme_has_an_open_in_colab_link_per_notebook(stem):
    """README.md links the tour and each released notebook as
    [Open in Colab](colab_link(stem))."""
    assert f"[Open in Colab]({colab_link(stem)})" in README.read_text()


def test_readme_uses_no_other_colab_address():
    """Every colab.research.google.com address in README.md is one of the six
    colab_link()s (so a changed notebook_base_url cannot leave a stale link)."""
    found = COLAB_URL.findall(README.read_text())
    assert sorted(set(found)) == sorted(colab_link(stem) for stem in LINKED)
