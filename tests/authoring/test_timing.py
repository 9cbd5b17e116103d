"""grader.authoring.timing and grader.course: each cell's time limit comes from the
answer key's own time for it, measured when the course is released, and timed again
only for the notebooks whose code changed."""

from __future__ import annotations

import json
import shutil

import pytest

from grader.authoring import timing
from grader.authoring.timing import NOISE, kept, stale_times, write_times
from grader.course import (
    CELL_LIMIT_FACTOR,
    CELL_LIMIT_FLOOR,
    COURSE,
    HELPER_PACKAGE,
    NOTEBOOKS,
    TIMES_FILE,
    Course,
    grade_id,
)

SIG, FWD = NOTEBOOKS[:2]


@pytest.fixture
def course_copy(tmp_path) -> Course:
    """A copy of the course's source and config, to change."""
    shutil.copytree(COURSE.source_dir, tmp_path / "source" / COURSE.assignment)
    shutil.copy2(COURSE.config_file, tmp_path / COURSE.config_file.name)
    return Course(tmp_path)


@pytest.fixture
def timed(monkeypatch) -> list[list[str]]:
    """The answer key timed by a stand-in (real timing runs every notebook for
    minutes): every cell of the stems asked for takes 1 s, 0.0123 s for `fast`;
    each call's stems."""
    calls: list[list[str]] = []

    def measure(course, stems, rounds=timing.ROUNDS):
        calls.append(list(stems))
        return {stem: {"cell": 1.0, "fast": 0.0123} for stem in stems}

    monkeypatch.setattr(timing, "measure", measure)
    return calls


def edit(course: Course, stem: str) -> Course:
    """Change one notebook of a course copy (one character); the course read
    again."""
    notebook = course.source_dir / f"{stem}.ipynb"
    notebook.write_text(notebook.read_text().replace("sigmoid", "sigmoid ", 1))
    return Course(course.root)


def test_the_committed_times_were_measured_for_the_committed_source():
    """`python -m grader release` times again whatever changed."""
    assert stale_times(COURSE) == []


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_every_code_cell_of_the_answer_key_has_a_time(stem):
    notebook = COURSE.notebook(stem).answer_key()
    code = {grade_id(cell) for cell in notebook.cells if cell.cell_type == "code"}
    assert code <= set(COURSE.reference_seconds(stem))
    assert all(seconds >= 0 for seconds in COURSE.reference_seconds(stem).values())


def test_a_cell_may_take_twenty_times_the_answer_keys_time_and_at_least_10_s(
    course_copy,
):
    times = course_copy.source_dir / TIMES_FILE
    record = json.loads(times.read_text())
    record["notebooks"][SIG]["seconds"] = {"fast": 0.01, "slow": 2.0}
    times.write_text(json.dumps(record))
    assert Course(course_copy.root).cell_limits(SIG) == {
        "fast": CELL_LIMIT_FLOOR,
        "slow": CELL_LIMIT_FACTOR * 2.0,
    }
    assert (CELL_LIMIT_FACTOR, CELL_LIMIT_FLOOR) == (20, 10.0)


def test_a_changed_notebook_makes_its_times_and_only_its_stale(course_copy):
    assert stale_times(course_copy) == []
    assert stale_times(edit(course_copy, SIG)) == [
        f"{TIMES_FILE}: {SIG} was timed for another version of it"
    ]
    (course_copy.source_dir / TIMES_FILE).unlink()
    assert "missing" in stale_times(Course(course_copy.root))[0]


def test_a_changed_helper_makes_every_notebooks_times_stale(course_copy):
    """The notebooks import the helper: its code is part of what they time."""
    helper = course_copy.source_dir / HELPER_PACKAGE / "training.py"
    helper.write_text(helper.read_text() + "\n# changed\n")
    assert len(stale_times(Course(course_copy.root))) == len(NOTEBOOKS)


def test_release_times_only_the_notebooks_whose_code_changed(course_copy, timed):
    """The other notebooks' entries are written back as they were."""
    before = json.loads((course_copy.source_dir / TIMES_FILE).read_text())
    course = edit(course_copy, FWD)
    write_times(course)
    assert timed == [[FWD]]
    after = json.loads((course.source_dir / TIMES_FILE).read_text())
    assert stale_times(Course(course.root)) == []
    for stem in NOTEBOOKS:
        if stem != FWD:
            assert after["notebooks"][stem] == before["notebooks"][stem]
    assert after["notebooks"][FWD]["seconds"] == {"cell": 1.0, "fast": 0.012}
    written = (course.source_dir / TIMES_FILE).read_bytes()
    write_times(Course(course.root))
    assert timed == [[FWD]], "nothing changed: nothing timed"
    assert (course.source_dir / TIMES_FILE).read_bytes() == written


def test_every_notebook_is_timed_again_when_asked(course_copy, timed):
    write_times(course_copy, every=True)
    assert timed == [list(NOTEBOOKS)]


@pytest.mark.parametrize(
    ("before", "taken", "written"),
    [
        (1.0, 1.0 * NOISE, 1.0),  # noise: the time before is kept
        (1.0, 1.0 / NOISE, 1.0),
        (0.5, 0.81, 0.81),  # a real change: the new time
        (2.0, 1.2, 1.2),
        (None, 0.012345, 0.012),  # a new cell: two significant digits
        (0.0, 0.0004, 0.0004),
    ],
)
def test_a_time_within_noise_of_the_one_before_is_kept(before, taken, written):
    assert kept(before, taken) == written
