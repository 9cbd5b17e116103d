"""Grades back into the LMS: OUT/lms/canvas.csv, moodle.csv and blackboard.csv.

Each is the file that LMS's own grade import takes, with one row per student whose
files it named (grader.model.Identity) and their total over the five notebooks;
a student with no notebook that could be graded gets 0 and a comment saying why,
never a missing row; one the grader failed on (grader_error, retried on the next
run) gets no grade, which every import skips, and a comment. A file is written
only for an LMS the class came from.

What each import reads (README: "Grades back into the LMS", with the sources):

- Canvas (Grades > Import): the header's first columns must be Student, ID, SIS
  User ID, SIS Login ID and Section; a student is found by ID (the Canvas user id),
  an assignment column by the id in "Name (id)", else by its exact name, else it
  becomes a new assignment; a "Points Possible" row gives a new one its points.
  It imports scores only, no comments.
- Moodle (assignment > Upload grading worksheet): a row is found by Identifier
  ("Participant <id>"); Grade is read, and skipped when Moodle's own grade changed
  after "Last modified (grade)"; "Feedback comments" is imported when the
  assignment has feedback comments on. Column names must be as Moodle writes them.
- Blackboard (Grade Center > Work Offline > Upload): a row is found by Username, a
  column by the id after "|" in its header; a column without one becomes a new
  text column (worth 0 points). Comma-separated values must be quoted.

The assignment's name and the ids the grader cannot know (Canvas's assignment id,
Blackboard's column id) come from course.toml's [lms] table (LmsSettings).

Every text cell is made safe for the spreadsheet an instructor may open it in:
control characters (newlines, tabs) become spaces and text a spreadsheet would run
as a formula gets a leading "'" (grader.output.tables.defuse_formula); the csv
module quotes the rest. Comments hold only the grader's own words and numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..course import course_settings
from ..intake.errors import InputError
from ..model import ClassResults, Identity, NotebookGrade, Status
from .stats import (
    format_points,
    grade_table,
    max_total,
    notebook_columns,
    short_name,
    student_totals,
)
from .tables import defuse_formula

LMS_FOLDER = "lms"
FILES = {"canvas": "canvas.csv", "moodle": "moodle.csv", "blackboard": "blackboard.csv"}
README_FILE = "README.txt"
DEFAULT_ASSIGNMENT = "Backpropagation from scratch"

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"
MOODLE_COLUMNS = (
    "Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade",
    "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
    "Feedback comments",
)  # fmt: skip
MOODLE_PARTICIPANT = "Participant "  # Moodle's "hiddenuser" string before the id
BLACKBOARD_COLUMNS = ("Last Name", "First Name", "Username", "Student ID")
BLACKBOARD_COMMENT = "Grader comment"

# Statuses of a notebook that nothing was graded in: the student's work never ran.
# (grader_error is the grader's failure: such a student gets no grade at all.)
NOT_GRADABLE = (
    Status.MISSING, Status.UNREADABLE, Status.WRONG_ASSIGNMENT, Status.GRADER_ERROR,
)  # fmt: skip
NOT_GRADED_YET = (
    "Not graded yet: the grader failed on a notebook (grader_error); run the grade "
    "command again"
)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
DIGITS = re.compile(r"\d+")
NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f|\[\]]")


@dataclass(frozen=True)
class LmsSettings:
    """course.toml's [lms] table: how the grade column is named in the LMS.

    assignment: the assignment's (Canvas) or Grade Center column's (Blackboard)
    name, as the LMS shows it. canvas_assignment_id: the number that ends the
    assignment's address (…/courses/12/assignments/4567 -> "4567"); "" writes the
    column by name only. blackboard_column_id: the number after "|" in the
    column's header of a Grade Center download; "" makes Blackboard create a new
    column.
    """

    assignment: str = DEFAULT_ASSIGNMENT
    canvas_assignment_id: str = ""
    blackboard_column_id: str = ""

    def __post_init__(self) -> None:
        if not self.assignment.strip() or NAME_FORBIDDEN.search(self.assignment):
            raise InputError(
                f"course.toml [lms] assignment must be the assignment's name as the "
                f"LMS shows it, without control characters, '|', '[' or ']'; got "
                f"{self.assignment!r}"
            )
        for key, where in (
            ("canvas_assignment_id", "the number at the end of the assignment's "
             "address in Canvas (…/assignments/4567)"),
            ("blackboard_column_id", "the number after '|' in the column's header "
             "in a Grade Center download"),
        ):  # fmt: skip
            value = getattr(self, key)
            if value and not DIGITS.fullmatch(value):
                raise InputError(
                    f'course.toml [lms] {key} must be {where}, or ""; got {value!r}'
                )

    @classmethod
    def from_course(cls, settings: dict | None = None) -> LmsSettings:
        """The [lms] table of course.toml (or of `settings`), defaults for the rest."""
        table = (course_settings() if settings is None else settings).get("lms", {})
        known = {"assignment", "canvas_assignment_id", "blackboard_column_id"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise InputError(
                f"course.toml [lms] has unknown keys {unknown}; it takes "
                f"{sorted(known)}"
            )
        return cls(**{key: str(value) for key, value in table.items()})

    @property
    def canvas_column(self) -> str:
        """The assignment's column header: "Name (4567)", or "Name" without an id."""
        if self.canvas_assignment_id:
            return f"{self.assignment} ({self.canvas_assignment_id})"
        return self.assignment

    def blackboard_column(self, points: float) -> str:
        """The grade column's header, as a Grade Center download writes it:
        "Name [Total Pts: 29 Score] |12345" ("|id" only with an id)."""
        header = f"{self.assignment} [Total Pts: {format_points(points)} Score]"
        if self.blackboard_column_id:
            header += f" |{self.blackboard_column_id}"
        return header


@dataclass(frozen=True)
class StudentTotal:
    """One student's line in their LMS's file."""

    student: str
    identity: Identity
    total: float | None  # None: the grader failed on a notebook (no grade yet)
    comment: str  # the per-notebook scores in one line (the grader's words only)


def cell(value: object) -> object:
    """A text cell made safe: control characters as spaces, formulas defused."""
    if not isinstance(value, str):
        return value
    return defuse_formula(CONTROL.sub(" ", value))


def notebook_summary(grade: NotebookGrade) -> str:
    """One notebook in a comment: "03 4/6", "03 2/6 (timeout)", "04 missing"."""
    name = short_name(grade.notebook)
    if grade.status in NOT_GRADABLE:
        return f"{name} {grade.status}"
    score = f"{format_points(grade.score)}/{format_points(grade.max_score)}"
    suffix = "" if grade.status == Status.OK else f" ({grade.status})"
    return f"{name} {score}{suffix}"


def student_totals_for(results: ClassResults) -> list[StudentTotal]:
    """Every student with an LMS identity, by student id: total and comment."""
    table = grade_table(results)
    totals = student_totals(results)
    most = format_points(max_total(results))
    notebooks = notebook_columns(results)
    rows = []
    for student, by_notebook in table.items():
        identity = results.identities.get(student)
        if identity is None:
            continue
        grades = [by_notebook[stem] for stem in notebooks if stem in by_notebook]
        parts = ", ".join(notebook_summary(grade) for grade in grades)
        total: float | None = totals[student]
        if any(grade.status == Status.GRADER_ERROR for grade in grades):
            # The grader's failure, not the student's: no grade rather than a 0.
            total, comment = None, f"{NOT_GRADED_YET}: {parts}."
        elif all(grade.status in NOT_GRADABLE for grade in grades):
            total = 0.0
            comment = f"No notebook could be graded, so the total is 0/{most}: {parts}."
        else:
            comment = f"Total {format_points(total)}/{most}: {parts}."
        rows.append(StudentTotal(student, identity, total, comment))
    return rows


def score(total: float | None) -> str:
    """A total as the LMS files write it; "" for none (every import skips it)."""
    return "" if total is None else format_points(total)


def _csv(
    header: Iterable[str], rows: Iterable[Iterable[object]], quote_all: bool = False
) -> str:
    """CSV text with "\\r\\n" line ends; every text cell made safe (cell)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    )
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return buffer.getvalue()


def canvas_csv(rows: list[StudentTotal], settings: LmsSettings, points: float) -> str:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section,
    then the assignment's column; a Points Possible row first."""
    body = [[CANVAS_POINTS_ROW, "", "", "", "", format_points(points)]]
    body += [
        [row.identity.name or row.identity.lms_id, row.identity.lms_id, "", "", "",
         score(row.total)]
        for row in rows
    ]  # fmt: skip
    return _csv([*CANVAS_COLUMNS, settings.canvas_column], body)


def moodle_csv(rows: list[StudentTotal], points: float, now: datetime) -> str:
    """Moodle's offline grading worksheet, its columns in Moodle's order."""
    stamp = now.isoformat(timespec="seconds")  # PHP's strtotime reads ISO 8601
    body = [
        [f"{MOODLE_PARTICIPANT}{row.identity.lms_id}", row.identity.name, "", "",
         score(row.total), format_points(points), "", "", stamp,
         row.comment]
        for row in rows
    ]  # fmt: skip
    return _csv(MOODLE_COLUMNS, body)


def blackboard_csv(
    rows: list[StudentTotal], settings: LmsSettings, points: float
) -> str:
    """Blackboard's Grade Center upload, every value quoted: the user columns,
    the grade column, the comment (a text column of its own if kept)."""
    header = [
        *BLACKBOARD_COLUMNS,
        settings.blackboard_column(points),
        BLACKBOARD_COMMENT,
    ]
    body = [
        ["", "", row.identity.lms_id, "", score(row.total), row.comment] for row in rows
    ]
    return _csv(header, body, quote_all=True)


def lms_files(
    results: ClassResults, settings: LmsSettings, now: datetime
) -> dict[str, str]:
    """file name in OUT/lms -> its text: one file per LMS the class came from, and
    README.txt when there is any; {} for a class with no LMS's names."""
    rows = student_totals_for(results)
    points = max_total(results)
    by_lms: dict[str, list[StudentTotal]] = {}
    for row in rows:
        by_lms.setdefault(row.identity.lms, []).append(row)
    files: dict[str, str] = {}
    if "canvas" in by_lms:
        files[FILES["canvas"]] = canvas_csv(by_lms["canvas"], settings, points)
    if "moodle" in by_lms:
        files[FILES["moodle"]] = moodle_csv(by_lms["moodle"], points, now)
    if "blackboard" in by_lms:
        files[FILES["blackboard"]] = blackboard_csv(
            by_lms["blackboard"], settings, points
        )
    if files:
        files[README_FILE] = readme(by_lms, settings, points, len(results.students))
    return files


def readme(
    by_lms: dict[str, list[StudentTotal]],
    settings: LmsSettings,
    points: float,
    students: int,
) -> str:
    """OUT/lms/README.txt: what is in each file, what to check, where to upload."""
    lines = [
        "Grades for your LMS, written by `python -m grader grade` (the course's "
        "README.md: Grades back into the LMS).",
        f"Each file has one row per student whose files that LMS named: their "
        f"total out of {format_points(points)}.",
        f"The class has {students} students; students handed in as a folder of "
        "their own are in none of these files (see grades.csv).",
        "Students with no notebook that could be graded get 0 and a comment.",
    ]
    failed = sorted(
        row.identity.lms_id
        for rows in by_lms.values()
        for row in rows
        if row.total is None
    )
    if failed:
        lines.append(
            f"NOT GRADED YET ({len(failed)}): the grader failed on a notebook of "
            "theirs, so their grade is left empty (every import skips it); run the "
            "grade command again: " + ", ".join(failed)
        )
    lines.append("")
    if "canvas" in by_lms:
        lines += [
            f"canvas.csv ({len(by_lms['canvas'])} students), column "
            f"{settings.canvas_column!r}:",
            "  Canvas > your course > Grades > Import > Choose file > canvas.csv >",
            "  Upload Data; check the changes Canvas shows, then Save Changes.",
            "  Canvas imports scores only: comments are not in this file.",
            "  Feedback pages: Canvas has no bulk upload of feedback files. Attach "
            "each student's",
            "  feedback/<student>/index.html and pages in SpeedGrader (Assignment "
            "Comments > attach a file),",
            "  or share OUT/feedback/<student>/ with each student another way; "
            "grades.csv's feedback column",
            "  names each page.",
        ]
        if not settings.canvas_assignment_id:
            lines += [
                "  NO ASSIGNMENT ID: Canvas will match an assignment named exactly "
                f"{settings.assignment!r},",
                "  or create one. To match by id, set canvas_assignment_id in "
                "course.toml's [lms] (the number",
                "  at the end of the assignment's address) and run the grade "
                "command again: nothing is regraded.",
            ]
        lines.append("")
    if "moodle" in by_lms:
        lines += [
            f"moodle.csv ({len(by_lms['moodle'])} students), Moodle's offline "
            "grading worksheet:",
            "  The assignment needs Feedback types > Offline grading worksheet (and "
            "Feedback comments),",
            f"  Grade type Point with Maximum grade {format_points(points)}. Then "
            "the assignment > View all",
            "  submissions > Grading action > Upload grading worksheet > "
            "moodle.csv (UTF-8, comma) >",
            "  Upload grading worksheet; check the summary, then Confirm.",
            "  Use Moodle in English: it finds the columns by their English names.",
            "",
            f"moodle-feedback.zip ({len(by_lms['moodle'])} students): each student's "
            "feedback pages, in a folder named",
            "  as Moodle's download names it (Full Name_<participant id>_"
            "assignsubmission_file). The assignment",
            "  needs Feedback types > Feedback files. Then the assignment > View all "
            "submissions > Grading",
            "  action: Upload multiple feedback files in a zip > moodle-feedback.zip > "
            "Import feedback file(s) >",
            "  Confirm. Each student finds the pages under Feedback files on the "
            "assignment's page; index.html",
            "  (their scores and misconceptions) links to the five notebooks' pages. "
            "The zip must fit the course's",
            "  maximum upload size (Course settings > Files and uploads).",
            "",
        ]
    if "blackboard" in by_lms:
        flagged = [
            row.identity.lms_id
            for row in by_lms["blackboard"]
            if cell(row.identity.lms_id) != row.identity.lms_id
        ]
        lines += [
            f"blackboard.csv ({len(by_lms['blackboard'])} students), column "
            f"{settings.blackboard_column(points)!r}:",
            "  Grade Center > Full Grade Center > Work Offline > Upload > "
            "blackboard.csv, delimiter Comma >",
            "  Submit; on the confirmation page keep the grade column, and "
            f"{BLACKBOARD_COMMENT!r} only if you",
            "  want the comments as a text column of their own; then Submit.",
            "  Feedback pages: Blackboard has no bulk upload of feedback files; the "
            "comment column carries",
            "  each student's scores. Attach feedback/<student>/index.html and the "
            "pages to each student's",
            "  attempt (Grade Center > the cell > Attempt > Feedback to Learner), "
            "or share OUT/feedback/<student>/",
            "  with each student another way.",
        ]
        if not settings.blackboard_column_id:
            lines += [
                "  NO COLUMN ID: Blackboard will create a new text column worth 0 "
                "points. Create the column",
                "  first, download it (Work Offline > Download) to read its id after "
                "'|', set",
                "  blackboard_column_id in course.toml's [lms] and run the grade "
                "command again.",
            ]
        if flagged:
            lines += [
                "  These user names start with a character a spreadsheet runs as a "
                "formula, so the file",
                "  has a ' before them; remove it in a text editor before the upload: "
                + ", ".join(repr(name) for name in flagged),
            ]
        lines.append("")
    return "\n".join(lines)


def write_lms_files(
    results: ClassResults, out: Path, settings: LmsSettings, now: datetime, write
) -> None:
    """Write OUT/lms/'s files with `write(path, text)`; files of an LMS this class
    did not come from (left by an earlier run) are removed, and so is the folder
    when it is left empty."""
    folder = out / LMS_FOLDER
    files = lms_files(results, settings, now)
    for name, text in files.items():
        write(folder / name, text)
    for name in (*FILES.values(), README_FILE):
        if name not in files:
            (folder / name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
