"""The class gradebook: one nbgrader database, written by the grading command only.

The database is nbgrader's (its tables, made by nbgrader's own models), so
`nbgrader export` and formgrader read it: `OUT/gradebook.db` (SQLite) by default, or
any database SQLAlchemy reaches (`--db postgresql://user@host/dbname`). Students'
scores are written in batches, one transaction per batch, as plain INSERTs into
nbgrader's tables (the rows nbgrader's `add_submission` makes, with the scores the
worker's private gradebook gave): going through nbgrader's ORM for each student cost
about 50 ms of the coordinator's CPU per student.
"""

from __future__ import annotations

import json
import re
import uuid
import warnings
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from nbgrader.api import (
    Assignment,
    Base,
    Comment,
    Grade,
    Gradebook,
    Student,
    SubmittedAssignment,
    SubmittedNotebook,
)
from sqlalchemy import (
    bindparam,
    create_engine,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import SAWarning

from ..course import ASSIGNMENT
from ..model import Identity, InputError, Lateness, NotebookGrade, Scores
from ..student_text import LMS, safe_text

# A table of the grader's in a database it made (it rewrites only such a database):
# one row, the OUT whose class it holds ({"out_id": ..., "out": its path}).
MARK_TABLE = "grader_made_this_gradebook"
# user:password@ in a URL (in a URL or in a command line holding one).
PASSWORD = re.compile(r"(?P<head>[A-Za-z][\w+.-]*://[^\s/@:]*):[^\s@]*@")
NAME_CHARACTERS = 128  # nbgrader's Student columns are String(128)


@dataclass(frozen=True)
class CellScore:
    """One graded cell of one student's notebook, as the gradebook holds it now:
    the autograder's score, a human's (formgrader), and extra credit."""

    auto: float | None
    manual: float | None
    extra_credit: float | None

    @property
    def points(self) -> float:
        """The cell's points as nbgrader counts them (Grade.score less extra
        credit): the manual score when there is one, else the autograder's."""
        chosen = self.manual if self.manual is not None else self.auto
        return chosen or 0.0


# student -> (notebook, grade_id) -> the cell's scores
BookScores = dict[str, dict[tuple[str, str], CellScore]]


@dataclass(frozen=True)
class NotebookLayout:
    """One notebook's cells in the gradebook, as add_submission mirrors them."""

    id: str
    name: str
    graded_cells: tuple[tuple[str, str], ...]  # grade and task cells: (id, name)
    comment_cells: tuple[str, ...]  # solution and task cells: one Comment each


def sqlite_url(path) -> str:
    """The URL of a SQLite gradebook file."""
    return f"sqlite:///{path}"


def hide_password(text: str) -> str:
    """`text` with the password of every URL in it shown as ***."""
    return PASSWORD.sub(r"\g<head>:***@", text)


def without_password(text: str) -> str:
    """`text` with the password of every URL in it left out (libpq then finds it
    in ~/.pgpass or $PGPASSFILE)."""
    return PASSWORD.sub(r"\g<head>@", text)


def claim_database(url: str, owner: dict[str, str], *, adopt: bool) -> None:
    """InputError unless the database at `url` may hold this OUT's class: empty,
    or made by the grader for this OUT (`owner`: its id and path). A database the
    grader made before it recorded its OUT is this OUT's when `adopt` (its stamp
    in OUT names it), and is recorded so."""
    engine = create_engine(url, future=True)
    shown = hide_password(url)
    try:
        tables = set(inspect(engine).get_table_names())
        if not tables:
            return
        if MARK_TABLE not in tables:
            raise _not_the_graders(url)
        with engine.begin() as connection:
            recorded = _owner(connection)
            if recorded and recorded.get("out_id") == owner["out_id"]:
                if recorded != owner:  # OUT was moved: its new place
                    _record_owner(connection, owner)
                return
            if recorded is None and adopt:
                _record_owner(connection, owner)
                return
        first = recorded.get("out", "?") if recorded else "an OUT graded before"
        raise InputError(
            f"the database {shown} holds the class graded into another OUT "
            f"({first}); one database holds one OUT's class, and this run would "
            "replace it. Give this OUT a database of its own (CREATE DATABASE), or "
            "grade into that OUT."
        )
    finally:
        engine.dispose()


def _not_the_graders(url: str) -> InputError:
    return InputError(
        f"the database {hide_password(url)} has tables that the grader did not "
        "make; give it an empty database (it creates nbgrader's tables there)"
    )


def _owner(connection) -> dict | None:
    """The OUT the grader's mark names, None when it names none."""
    found = connection.execute(text(f"SELECT made FROM {MARK_TABLE}")).scalars()
    for made in found:
        try:
            owner = json.loads(made or "")
        except ValueError:
            continue
        if isinstance(owner, dict):
            return owner
    return None


def _record_owner(connection, owner: dict[str, str]) -> None:
    connection.execute(text(f"DELETE FROM {MARK_TABLE}"))
    connection.execute(
        text(f"INSERT INTO {MARK_TABLE} (made) VALUES (:made)"),
        {"made": json.dumps(owner)},
    )


def copy_gradebook(template: str, target: str, owner: dict[str, str]) -> None:
    """Make the database at `target` a copy of the gradebook at `template` (the
    course, its assignment, notebooks and cells; no students), replacing what the
    grader put there before for this OUT (`owner`, claim_database). A database
    that holds tables the grader did not make is refused (InputError)."""
    engine = create_engine(target, future=True)
    try:
        tables = set(inspect(engine).get_table_names())
        if tables and MARK_TABLE not in tables:
            raise _not_the_graders(target)
        source = create_engine(template, future=True)
        with source.connect() as reading, engine.begin() as writing:
            if tables:
                writing.execute(text(f"DROP TABLE IF EXISTS {MARK_TABLE}"))
                writing.execute(text("DROP TABLE IF EXISTS alembic_version"))
                Base.metadata.drop_all(writing)
            Base.metadata.create_all(writing)
            writing.execute(text(f"CREATE TABLE {MARK_TABLE} (made TEXT)"))
            _record_owner(writing, owner)
            version = reading.execute(
                text("SELECT version_num FROM alembic_version")
            ).scalar_one()
            writing.execute(
                text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            )
            writing.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                {"v": version},
            )
            for table in Base.metadata.sorted_tables:
                rows = [dict(row._mapping) for row in reading.execute(select(table))]
                if rows:
                    writing.execute(insert(table), rows)
        source.dispose()
    finally:
        engine.dispose()


class ClassGradebook:
    """The class gradebook at `url`, written a batch of students at a time."""

    def __init__(self, url: str) -> None:
        with warnings.catch_warnings():
            # nbgrader's models trip SQLAlchemy 2's backref-cascade warning; harmless.
            warnings.simplefilter("ignore", SAWarning)
            self.gradebook = Gradebook(url)
            assignment = self.gradebook.find_assignment(ASSIGNMENT)
            self.assignment_id = assignment.id
            self.layout = [
                NotebookLayout(
                    notebook.id,
                    notebook.name,
                    tuple(
                        (cell.id, cell.name)
                        for cell in [*notebook.grade_cells, *notebook.task_cells]
                    ),
                    tuple(
                        cell.id
                        for cell in [*notebook.solution_cells, *notebook.task_cells]
                    ),
                )
                for notebook in assignment.notebooks
            ]
        self.session = self.gradebook.db

    def write(
        self, batch: dict[str, Scores], identities: dict[str, Identity] | None = None
    ) -> None:
        """Replace these students' submissions with these scores, in one transaction.

        scores: (notebook, grade_id) -> (auto_score, manual_score,
        needs_manual_grade) from the worker's private gradebook; cells without
        scores (notebooks that were missing, unreadable or could not be graded) get
        0 points, as stock nbgrader gives a missing notebook.
        identities: student -> what their LMS knows of them: the name (nbgrader's
        first and last name, which formgrader shows), the LMS id (lms_user_id) and
        when they handed in (the submission's timestamp, in UTC as nbgrader keeps
        it); students without one keep no name and no timestamp.
        """
        if not batch:
            return
        identities = identities or {}
        session, students = self.session, sorted(batch)
        try:
            known = set(
                session.execute(
                    select(Student.id).where(Student.id.in_(students))
                ).scalars()
            )
            people = [student_row(s, identities.get(s)) for s in students]
            new = [row for row in people if row["id"] not in known]
            if new:
                session.execute(insert(Student.__table__), new)
            renamed = [  # an LMS's name replaces the last; no LMS, no change
                {"key": row.pop("id"), **row}
                for row in people
                if row["id"] in known and row["id"] in identities
            ]
            if renamed:
                table = Student.__table__
                session.execute(
                    update(table).where(table.c.id == bindparam("key")), renamed
                )
            self._remove(students)
            submissions, notebooks, grades, comments = [], [], [], []
            for student in students:
                scores = batch[student]
                submission = uuid.uuid4().hex
                submissions.append(
                    {"id": submission, "assignment_id": self.assignment_id,
                     "student_id": student,
                     "timestamp": nbgrader_time(identities.get(student))}
                )  # fmt: skip
                for layout in self.layout:
                    notebook = uuid.uuid4().hex
                    notebooks.append(
                        {"id": notebook, "assignment_id": submission,
                         "notebook_id": layout.id, "flagged": False}
                    )  # fmt: skip
                    grades.extend(
                        _grade(notebook, cell, scores.get((layout.name, name)))
                        for cell, name in layout.graded_cells
                    )
                    comments.extend(
                        {"id": uuid.uuid4().hex, "notebook_id": notebook,
                         "cell_id": cell}
                        for cell in layout.comment_cells
                    )  # fmt: skip
            session.execute(insert(SubmittedAssignment.__table__), submissions)
            session.execute(insert(SubmittedNotebook.__table__), notebooks)
            if grades:
                session.execute(insert(Grade.__table__), grades)
            if comments:
                session.execute(insert(Comment.__table__), comments)
            session.commit()
        except BaseException:
            session.rollback()
            raise

    def _remove(self, students: list[str]) -> None:
        """Delete these students' submissions of the assignment (and their rows).

        Students graded for the first time have none: then nothing else is read
        (nbgrader's tables have no index on their foreign keys, so a delete by
        notebook scans every grade of the class)."""
        session = self.session
        submitted = list(
            session.execute(
                select(SubmittedAssignment.id).where(
                    SubmittedAssignment.assignment_id == self.assignment_id,
                    SubmittedAssignment.student_id.in_(students),
                )
            ).scalars()
        )
        if not submitted:
            return
        notebooks = list(
            session.execute(
                select(SubmittedNotebook.id).where(
                    SubmittedNotebook.assignment_id.in_(submitted)
                )
            ).scalars()
        )
        if notebooks:
            for table in (Grade.__table__, Comment.__table__):
                session.execute(delete(table).where(table.c.notebook_id.in_(notebooks)))
            session.execute(
                delete(SubmittedNotebook.__table__).where(
                    SubmittedNotebook.id.in_(notebooks)
                )
            )
        session.execute(
            delete(SubmittedAssignment.__table__).where(
                SubmittedAssignment.id.in_(submitted)
            )
        )

    def scores(self) -> BookScores:
        """Every student's cell scores as the gradebook holds them now (a score
        changed in formgrader included), in one query."""
        cells = {
            cell: (layout.name, name)
            for layout in self.layout
            for cell, name in layout.graded_cells
        }
        rows = self.session.execute(
            select(
                SubmittedAssignment.student_id,
                Grade.cell_id,
                Grade.auto_score,
                Grade.manual_score,
                Grade.extra_credit,
            )
            .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
            .join(
                SubmittedAssignment,
                SubmittedNotebook.assignment_id == SubmittedAssignment.id,
            )
            .where(SubmittedAssignment.assignment_id == self.assignment_id)
        )
        found: BookScores = {}
        for student, cell, auto, manual, extra in rows:
            if cell in cells:
                found.setdefault(student, {})[cells[cell]] = CellScore(
                    auto, manual, extra
                )
        self.session.rollback()  # end the read transaction
        return found

    def record_late(
        self,
        due: datetime | None,
        submitted: dict[str, datetime],
        late: dict[tuple[str, str], Lateness],
    ) -> None:
        """nbgrader's own record of lateness, in one transaction: the assignment's
        due date, each student's submission time (`nbgrader export`'s timestamp)
        and each notebook's late_submission_penalty (0 when on time)."""
        session = self.session
        names = {layout.name: layout.id for layout in self.layout}
        try:
            session.execute(
                update(Assignment.__table__)
                .where(Assignment.__table__.c.id == self.assignment_id)
                .values(duedate=_utc(due))
            )
            submissions = {
                student: submission
                for student, submission in session.execute(
                    select(
                        SubmittedAssignment.student_id, SubmittedAssignment.id
                    ).where(SubmittedAssignment.assignment_id == self.assignment_id)
                )
            }
            stamps = [
                {"row": submissions[student], "when": _utc(when)}
                for student, when in submitted.items()
                if student in submissions
            ]
            table = SubmittedAssignment.__table__
            session.execute(update(table).values(timestamp=None).where(
                table.c.assignment_id == self.assignment_id
            ))  # fmt: skip
            if stamps:
                session.execute(
                    update(table)
                    .where(table.c.id == bindparam("row"))
                    .values(timestamp=bindparam("when")),
                    stamps,
                )
            notebooks = SubmittedNotebook.__table__
            session.execute(
                update(notebooks)
                .where(notebooks.c.assignment_id.in_(list(submissions.values())))
                .values(late_submission_penalty=None)
            )
            penalties = [
                {"submission": submissions[student], "notebook": names[stem],
                 "penalty": lateness.penalty}
                for (student, stem), lateness in late.items()
                if student in submissions and stem in names
            ]  # fmt: skip
            if penalties:
                session.execute(
                    update(notebooks)
                    .where(notebooks.c.assignment_id == bindparam("submission"))
                    .where(notebooks.c.notebook_id == bindparam("notebook"))
                    .values(late_submission_penalty=bindparam("penalty")),
                    penalties,
                )
            session.commit()
        except BaseException:
            session.rollback()
            raise

    def students(self) -> list[str]:
        """The students with a submission of the assignment."""
        return sorted(
            self.session.execute(
                select(SubmittedAssignment.student_id)
                .join(Assignment)
                .where(Assignment.name == ASSIGNMENT)
            ).scalars()
        )

    def close(self) -> None:
        self.gradebook.close()

    def __enter__(self) -> ClassGradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def student_row(student: str, identity: Identity | None) -> dict:
    """A Student row: the id, and what the LMS knows (first and last name: a full
    name split at its last space, a name without one as the last name; the id
    within that LMS)."""
    if identity is None:
        return {"id": student, "first_name": None, "last_name": None,
                "lms_user_id": None}  # fmt: skip
    first, last = name_parts(identity.name)
    return {
        "id": student,
        "first_name": first or None,
        "last_name": last or None,
        "lms_user_id": _column_text(identity.lms_id),
    }


def name_parts(name: str) -> tuple[str, str]:
    """(first name, last name) of a full name, each fit for nbgrader's columns:
    one line, control characters as visible escapes, at most 128 characters."""
    first, _, last = safe_text(name, LMS).strip().rpartition(" ")
    return _column_text(first.strip()), _column_text(last.strip())


def _column_text(text: str) -> str:
    """Text cut to fit one of nbgrader's String(128) columns."""
    return text[:NAME_CHARACTERS]


def nbgrader_time(identity: Identity | None) -> datetime | None:
    """When the student handed in, as nbgrader keeps times: naive, in UTC."""
    if identity is None or identity.submitted_at is None:
        return None
    return identity.submitted_at.astimezone(UTC).replace(tzinfo=None)


def _grade(notebook: str, cell: str, found) -> dict:
    """A Grade row: the worker's scores, or 0 points when there are none."""
    row = {"id": uuid.uuid4().hex, "notebook_id": notebook, "cell_id": cell}
    if found is None:
        return {**row, "auto_score": 0.0, "manual_score": None,
                "needs_manual_grade": False}  # fmt: skip
    return {**row, "auto_score": found[0], "manual_score": found[1],
            "needs_manual_grade": bool(found[2])}  # fmt: skip


def scored_by_gradebook(
    grades: list[NotebookGrade], book: BookScores
) -> list[NotebookGrade]:
    """The grades with the gradebook's scores: each test's points its cell's
    (a manual score wins over the autograder's), each notebook's score the sum of
    its cells' with extra credit, as nbgrader counts it. Rows of a student the
    gradebook does not hold are kept as they are."""
    scored = []
    for grade in grades:
        cells = book.get(grade.student)
        if not cells:
            scored.append(grade)
            continue
        mine = {
            name: cell for (stem, name), cell in cells.items() if stem == grade.notebook
        }
        if not mine:
            scored.append(grade)
            continue
        tests = [
            replace(test, points=mine[test.test].points) if test.test in mine else test
            for test in grade.tests
        ]
        total = sum(cell.points + (cell.extra_credit or 0.0) for cell in mine.values())
        if abs(total - grade.score) < 1e-9 and tests == grade.tests:
            scored.append(grade)
        else:
            scored.append(replace(grade, score=total, tests=tests))
    return scored


def _utc(when: datetime | None) -> datetime | None:
    """A time as nbgrader stores it: naive, in UTC."""
    if when is None:
        return None
    return when.astimezone(UTC).replace(tzinfo=None)
