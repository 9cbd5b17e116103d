"""The class gradebook in PostgreSQL: `python -m grader grade --db URL`.

A real PostgreSQL server (Debian's, `make setup-dev` installs it) is started by the
test: initdb into a temporary folder as the unprivileged `postgres` user, a loopback
port, stopped after. A tiny class is graded with its gradebook there; nbgrader's
own `nbgrader export`, run in OUT (whose nbgrader_config.py names the database),
gives the totals of grades.csv. A database with tables the grader did not make is
refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest
from nbgrader.api import Gradebook
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SAWarning

from grader.course import ASSIGNMENT, NOTEBOOKS, REPO
from grader.demo.submissions import solved, with_edits
from tests.grading.cluster_support import (
    create_database,
    postgres_bin,
    postgres_server,
)
from tests.support import nbgrader_export, read_csv, write_notebook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres_bin() is None or os.geteuid() != 0,
        reason="needs Debian's postgresql (make setup-dev), and root to run it as "
        "postgres",
    ),
]

SIG = NOTEBOOKS[0]
LIMITS = ("--cell-timeout", "30", "--notebook-timeout", "60")
SIGN = ("np.exp(-np.asarray", "np.exp(np.asarray")


def grade(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "grade", *map(str, args), "--quiet",
         "--jobs", "2", *LIMITS],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server():
    with postgres_server() as base:
        yield base


@pytest.fixture(scope="module")
def graded(server, tmp_path_factory):
    """alice (4/4) and bob (1/4) graded with the gradebook in PostgreSQL."""
    root = tmp_path_factory.mktemp("db-class")
    submissions, out = root / "class", root / "out"
    write_notebook(submissions / "alice" / f"{SIG}.ipynb", solved(SIG))
    write_notebook(
        submissions / "bob" / f"{SIG}.ipynb", with_edits(SIG, "sigmoid", SIGN)
    )
    url = create_database(server, "gradebook")
    result = grade(submissions, "--out", out, "--db", url)
    assert result.returncode == 0, result.stdout + result.stderr
    return submissions, out, url, result


def test_the_gradebook_is_written_in_postgresql(graded):
    """Both students' submissions are in the database; OUT has no gradebook.db."""
    _, out, url, result = graded
    assert not (out / "gradebook.db").exists()
    assert url in result.stdout
    with warnings.catch_warnings(), Gradebook(url) as gradebook:
        warnings.simplefilter("ignore", SAWarning)
        assignment = gradebook.find_assignment(ASSIGNMENT)
        students = sorted(s.student_id for s in assignment.submissions)
        scores = {
            s.student_id: s.score for s in assignment.submissions
        }  # nbgrader's own totals, computed in SQL
    assert students == ["alice", "bob"]
    assert scores == {"alice": 4.0, "bob": 1.0}


def test_nbgrader_export_pointed_at_it_gives_the_totals_of_grades_csv(graded):
    """`nbgrader export` in OUT (nbgrader_config.py names the database)."""
    _, out, url, _ = graded
    assert (
        f"c.CourseDirectory.db_url = {url!r}"
        in (out / "nbgrader_config.py").read_text()
    )
    exported = nbgrader_export(out)
    _, rows = read_csv(out / "grades.csv")
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["student"]] = totals.get(row["student"], 0.0) + float(row["score"])
    assert {row["student_id"]: float(row["score"]) for row in exported} == totals
    assert totals == {"alice": 4.0, "bob": 1.0}


def test_a_rerun_with_the_same_database_grades_nothing_again(graded):
    submissions, out, url, _ = graded
    states = sorted((out / ".grader" / "state").glob("*.json"))
    before = [path.stat().st_mtime_ns for path in states]
    result = grade(submissions, "--out", out, "--db", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [path.stat().st_mtime_ns for path in states] == before


def test_a_database_with_other_tables_is_refused(server, graded, tmp_path):
    """A database the grader did not make is never rewritten: exit 2, a message,
    its table still there."""
    submissions = graded[0]
    url = create_database(server, "someone_elses")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE marks (student TEXT)"))
    result = grade(submissions, "--out", tmp_path / "out", "--db", url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the grader did not make" in result.stderr
    assert "Traceback" not in result.stderr
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        assert list(tables) == ["marks"]
    engine.dispose()
