"""The class gradebook keeps what the LMS knows: nbgrader's own tables, read back
with nbgrader's API (what formgrader and `nbgrader export` read)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from nbgrader.api import Gradebook

from grader.authoring.nbgrader_run import nbgrader_env
from grader.course import ASSIGNMENT
from grader.grading.gradebook import (
    ClassGradebook,
    name_parts,
    nbgrader_time,
    sqlite_url,
)
from grader.model import Identity

SIG = "01_sigmoid"
SCORES = {(SIG, "test_sigmoid"): (2.0, None, False)}
WHEN = datetime(2024, 5, 17, 10, 0, tzinfo=timezone(timedelta(hours=2)))


@pytest.fixture
def url(tmp_path, monkeypatch) -> str:
    """A gradebook with the assignment, one notebook and one graded cell (nbgrader
    makes its tables with the alembic command beside this Python)."""
    monkeypatch.setenv("PATH", nbgrader_env()["PATH"])
    url = sqlite_url(tmp_path / "gradebook.db")
    with Gradebook(url) as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
        gradebook.add_notebook(SIG, ASSIGNMENT)
        gradebook.add_grade_cell(
            "test_sigmoid", SIG, ASSIGNMENT, max_score=2, cell_type="code"
        )
    return url


def test_names_ids_and_times_are_in_nbgraders_tables(url):
    identities = {
        "21": Identity("moodle", "21", "Ada King Lovelace", WHEN),
        "40101": Identity("canvas", "40101", "lovelaceada"),
    }
    with ClassGradebook(url) as gradebook:
        gradebook.write({"21": SCORES, "40101": SCORES, "alice": SCORES}, identities)
    with Gradebook(url) as gradebook:
        ada, canvas, alice = (
            gradebook.find_student(s) for s in ("21", "40101", "alice")
        )
        assert (ada.first_name, ada.last_name, ada.lms_user_id) == (
            "Ada King", "Lovelace", "21"
        )  # fmt: skip
        assert (canvas.first_name, canvas.last_name) == (None, "lovelaceada")
        assert (alice.first_name, alice.last_name, alice.lms_user_id) == (None,) * 3
        submitted = gradebook.find_submission(ASSIGNMENT, "21")
        assert submitted.timestamp == datetime(2024, 5, 17, 8, 0)  # UTC, naive
        assert gradebook.find_submission(ASSIGNMENT, "alice").timestamp is None
        assert submitted.score == 2.0


def test_a_rerun_renames_only_the_students_an_lms_names(url):
    """A name set by hand (formgrader) for a student of no LMS is kept."""
    with ClassGradebook(url) as gradebook:
        gradebook.write({"21": SCORES, "alice": SCORES})
    with Gradebook(url) as gradebook:
        gradebook.update_or_create_student("alice", first_name="Alice")
    with ClassGradebook(url) as gradebook:
        gradebook.write(
            {"21": SCORES, "alice": SCORES},
            {"21": Identity("moodle", "21", "Grace Hopper", WHEN)},
        )
    with Gradebook(url) as gradebook:
        assert gradebook.find_student("alice").first_name == "Alice"
        assert gradebook.find_student("21").last_name == "Hopper"


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Ada Lovelace", ("Ada", "Lovelace")),
        ("lovelaceada", ("", "lovelaceada")),
        ("", ("", "")),
        ("Ada\nLovelace", ("Ada", "Lovelace")),
        ("=1+2 x", ("'=1+2", "x")),
        ("A" * 300, ("", "A" * 128)),
    ],
)
def test_a_name_fits_nbgraders_columns_on_one_line(name, parts):
    assert name_parts(name) == parts


def test_times_are_kept_in_utc_as_nbgrader_keeps_them():
    assert nbgrader_time(Identity("m", "1", "", WHEN)) == datetime(2024, 5, 17, 8)
    assert nbgrader_time(Identity("m", "1", "", WHEN.astimezone(UTC))) == datetime(
        2024, 5, 17, 8
    )
    assert nbgrader_time(None) is None
