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

Every text cell is made safe for the LMS and the spreadsheet an instructor may
open it in (grader.student_text, sink LMS): newlines and tabs become spaces, other
control characters visible escapes, and text a spreadsheet would run as a formula
gets a leading "'"; the csv module quotes the rest. Comments hold only the
grader's own words and numbers.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..course import NOTEBOOKS, Course
from ..model import (
    ClassResults,
    Identity,
    InputError,
    Lateness,
    NotebookGrade,
    Status,
)
from ..student_text import LMS, safe_text
from .stats import (
    format_points,
    grade_table,
    late_summary,
    notebook_max_scores,
    short_name,
)

LMS_FOLDER = "lms"
FILES = {"canvas": "canvas.csv", "moodle": "moodle.csv", "blackboard": "blackboard.csv"}
README_FILE = "README.txt"
ZIP_FILE = "moodle-feedback.zip"  # grader.output.moodle_feedback writes it
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
DIGITS = re.compile(r"\d+")
NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f|\[\]]")


ID_RULES = (
    ("canvas_assignment_id", "the number at the end of the assignment's address in "
     "Canvas (…/assignments/4567)"),
    ("blackboard_column_id", "the number after '|' in the column's header in a "
     "Grade Center download"),
)  # fmt: skip
ASSIGNMENT_KEYS = {"name", "notebooks", "canvas_assignment_id", "blackboard_column_id"}
SINGLE_KEYS = {"assignment", "canvas_assignment_id", "blackboard_column_id"}
SLUG_FORBIDDEN = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class LmsAssignment:
    """One assignment (Canvas), worksheet (Moodle) or Grade Center column
    (Blackboard) of the LMS, and the notebooks whose scores make its grade.

    name: as the LMS shows it. canvas_assignment_id: the number that ends the
    assignment's address (…/courses/12/assignments/4567 -> "4567"); "" writes the
    column by name only. blackboard_column_id: the number after "|" in the
    column's header of a Grade Center download; "" makes Blackboard create a new
    column. `where` names the table in course.toml, for the messages.
    """

    name: str
    notebooks: tuple[str, ...]
    canvas_assignment_id: str = ""
    blackboard_column_id: str = ""
    where: str = "[lms]"

    def __post_init__(self) -> None:
        if not self.name.strip() or NAME_FORBIDDEN.search(self.name):
            key = "assignment" if self.where == "[lms]" else "name"
            raise InputError(
                f"course.toml {self.where} {key} must be the assignment's name as "
                f"the LMS shows it, without control characters, '|', '[' or ']'; "
                f"got {self.name!r}"
            )
        for key, what in ID_RULES:
            value = getattr(self, key)
            if value and not DIGITS.fullmatch(value):
                raise InputError(
                    f'course.toml {self.where} {key} must be {what}, or ""; got '
                    f"{value!r}"
                )

    @property
    def canvas_column(self) -> str:
        """The assignment's column header: "Name (4567)", or "Name" without an id."""
        if self.canvas_assignment_id:
            return f"{self.name} ({self.canvas_assignment_id})"
        return self.name

    def blackboard_column(self, points: float) -> str:
        """The grade column's header, as a Grade Center download writes it:
        "Name [Total Pts: 29 Score] |12345" ("|id" only with an id)."""
        header = f"{self.name} [Total Pts: {format_points(points)} Score]"
        if self.blackboard_column_id:
            header += f" |{self.blackboard_column_id}"
        return header

    @property
    def slug(self) -> str:
        """The name in a file name: "Part 1: Sigmoid" -> "part-1-sigmoid"."""
        return SLUG_FORBIDDEN.sub("-", self.name.lower()).strip("-") or "assignment"


@dataclass(frozen=True)
class LmsSettings:
    """course.toml's [lms] table: the LMS assignments the grades go to.

    Either one assignment of every notebook (the keys assignment,
    canvas_assignment_id and blackboard_column_id, as LmsAssignment's), or a list
    of them ([[lms.assignments]], each with its name, ids and notebooks): a
    notebook in none is not sent to the LMS.
    """

    assignment: str = DEFAULT_ASSIGNMENT
    canvas_assignment_id: str = ""
    blackboard_column_id: str = ""
    assignments: tuple[LmsAssignment, ...] = ()  # [[lms.assignments]]
    course_notebooks: tuple[str, ...] = NOTEBOOKS

    def __post_init__(self) -> None:
        if not self.assignments:
            self.single  # noqa: B018 (checks the keys)
            return
        seen: dict[str, str] = {}
        for item in self.assignments:
            for stem in item.notebooks:
                if stem not in self.course_notebooks:
                    raise InputError(
                        f"course.toml {item.where} notebooks: {stem!r} is not a "
                        f"notebook of the course ({', '.join(self.course_notebooks)})"
                    )
                if stem in seen:
                    raise InputError(
                        f"course.toml [[lms.assignments]]: {stem} is in both "
                        f"{seen[stem]!r} and {item.name!r}; a notebook's score "
                        "goes to one LMS assignment"
                    )
                seen[stem] = item.name
        slugs = [item.slug for item in self.assignments]
        if len(set(slugs)) < len(slugs):
            raise InputError(
                "course.toml [[lms.assignments]]: two names differ only in case or "
                f"punctuation ({', '.join(item.name for item in self.assignments)}); "
                "each needs a name of its own"
            )

    @property
    def single(self) -> LmsAssignment:
        """The one assignment of every notebook the top-level keys describe."""
        return LmsAssignment(
            self.assignment, self.course_notebooks, self.canvas_assignment_id,
            self.blackboard_column_id,
        )  # fmt: skip

    @property
    def columns(self) -> tuple[LmsAssignment, ...]:
        """The LMS assignments, in course.toml's order."""
        return self.assignments or (self.single,)

    @classmethod
    def from_course(cls, course: Course) -> LmsSettings:
        """The [lms] table of the course's course.toml, defaults for the rest."""
        return cls.from_settings(course.settings(), tuple(course.notebooks))

    @classmethod
    def from_settings(
        cls, settings: dict, notebooks: tuple[str, ...] = NOTEBOOKS
    ) -> LmsSettings:
        """The [lms] table of course.toml's `settings`, defaults for the rest;
        InputError naming the key for anything the LMS would misread."""
        table = dict(settings.get("lms", {}))
        listed = table.pop("assignments", None)
        if listed is None:
            _known_keys(table, SINGLE_KEYS, "[lms]")
            values = {key: str(value) for key, value in table.items()}
            return cls(**values, course_notebooks=notebooks)
        if table:
            raise InputError(
                f"course.toml [lms] has {sorted(table)} beside [[lms.assignments]]; "
                "with a list of assignments, give each its name and ids in its own "
                "[[lms.assignments]] table and remove these"
            )
        if not isinstance(listed, list) or not listed:
            raise InputError(
                "course.toml [[lms.assignments]] must be one or more tables, each "
                'with name = "…" and notebooks = ["01_sigmoid", …]'
            )
        items = []
        for number, entry in enumerate(listed, 1):
            where = f"[[lms.assignments]] #{number}"
            if not isinstance(entry, dict):
                raise InputError(f"course.toml {where} must be a table")
            _known_keys(entry, ASSIGNMENT_KEYS, where)
            stems = entry.get("notebooks")
            if (
                not isinstance(stems, list)
                or not stems
                or not all(isinstance(stem, str) for stem in stems)
            ):
                raise InputError(
                    f'course.toml {where} needs notebooks = ["01_sigmoid", …]: '
                    "the notebooks whose scores make its grade"
                )
            items.append(
                LmsAssignment(
                    str(entry.get("name", "")),
                    tuple(stems),
                    str(entry.get("canvas_assignment_id", "")),
                    str(entry.get("blackboard_column_id", "")),
                    where,
                )
            )
        return cls(assignments=tuple(items), course_notebooks=notebooks)

    @property
    def canvas_column(self) -> str:
        """The single assignment's Canvas column (LmsAssignment.canvas_column)."""
        return self.single.canvas_column

    def blackboard_column(self, points: float) -> str:
        """The single assignment's Blackboard column."""
        return self.single.blackboard_column(points)


def _known_keys(table: dict, known: set[str], where: str) -> None:
    """InputError for keys of a course.toml table that nothing reads."""
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputError(
            f"course.toml {where} has unknown keys {unknown}; it takes {sorted(known)}"
        )


@dataclass(frozen=True)
class StudentTotal:
    """One student's grade for one LMS assignment."""

    student: str
    identity: Identity
    total: float | None  # None: the grader failed on a notebook (no grade yet)
    comment: str  # the per-notebook scores in one line (the grader's words only)


@dataclass(frozen=True)
class AssignmentGrades:
    """One LMS assignment's grades: the students who handed in any of its
    notebooks (a student who handed in none gets no grade, not a 0)."""

    assignment: LmsAssignment
    points: float
    rows: list[StudentTotal]


def cell(value: object) -> object:
    """A text cell made safe for an LMS import (grader.student_text)."""
    if not isinstance(value, str):
        return value
    return safe_text(value, LMS)


def notebook_summary(grade: NotebookGrade, lateness: Lateness | None = None) -> str:
    """One notebook in a comment: "03 4/6", "03 2/6 (timeout)", "04 missing",
    "01 4/4 (2 days late: -2)"."""
    name = short_name(grade.notebook)
    if grade.status in NOT_GRADABLE:
        return f"{name} {grade.status}"
    score = f"{format_points(grade.score)}/{format_points(grade.max_score)}"
    notes = [] if grade.status == Status.OK else [str(grade.status)]
    if lateness is not None:
        notes.append(late_summary(lateness))
    return f"{name} {score}" + (f" ({'; '.join(notes)})" if notes else "")


def assignment_grades(
    results: ClassResults, assignment: LmsAssignment
) -> AssignmentGrades:
    """Every student with an LMS identity who handed in any of the assignment's
    notebooks: their total over its notebooks (less late penalties) and comment."""
    table = grade_table(results)
    maxima = notebook_max_scores(results)
    stems = [stem for stem in assignment.notebooks if stem in maxima]
    points = sum(maxima[stem] for stem in stems)
    most = format_points(points)
    rows = []
    for student, by_notebook in table.items():
        identity = results.identities.get(student)
        grades = [by_notebook[stem] for stem in stems if stem in by_notebook]
        if identity is None or all(g.status == Status.MISSING for g in grades):
            continue
        late = [results.late.get((student, grade.notebook)) for grade in grades]
        parts = ", ".join(map(notebook_summary, grades, late))
        total: float | None = sum(grade.score for grade in grades) - sum(
            lateness.penalty for lateness in late if lateness
        )
        if any(grade.status == Status.GRADER_ERROR for grade in grades):
            # The grader's failure, not the student's: no grade rather than a 0.
            total, comment = None, f"{NOT_GRADED_YET}: {parts}."
        elif all(grade.status in NOT_GRADABLE for grade in grades):
            total = 0.0
            comment = f"No notebook could be graded, so the total is 0/{most}: {parts}."
        else:
            comment = f"Total {format_points(total)}/{most}: {parts}."
        rows.append(StudentTotal(student, identity, total, comment))
    return AssignmentGrades(assignment, points, rows)


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


def _by_student(
    graded: list[AssignmentGrades],
) -> dict[str, tuple[Identity, list[StudentTotal | None]]]:
    """student -> (identity, their row of each assignment or None), by student."""
    students: dict[str, tuple[Identity, list[StudentTotal | None]]] = {}
    for index, grades in enumerate(graded):
        for row in grades.rows:
            empty: list[StudentTotal | None] = [None] * len(graded)
            entry = students.setdefault(row.student, (row.identity, empty))
            entry[1][index] = row
    return dict(sorted(students.items()))


def canvas_csv(graded: list[AssignmentGrades]) -> str:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section,
    then a column per assignment; a Points Possible row first. A student who handed
    in nothing for an assignment has an empty cell there (Canvas leaves it)."""
    body = [[CANVAS_POINTS_ROW, "", "", "", "",
             *(format_points(grades.points) for grades in graded)]]  # fmt: skip
    for identity, rows in _by_student(graded).values():
        body.append(
            [identity.name or identity.lms_id, identity.lms_id, "", "", "",
             *("" if row is None else score(row.total) for row in rows)]
        )  # fmt: skip
    header = [*CANVAS_COLUMNS, *(grades.assignment.canvas_column for grades in graded)]
    return _csv(header, body)


def moodle_csv(grades: AssignmentGrades, stamps: GradeStamps, now: datetime) -> str:
    """Moodle's offline grading worksheet, its columns in Moodle's order; "Last
    modified (grade)" is when that student's grade last changed (GradeStamps)."""
    body = []
    for row in grades.rows:
        participant = row.identity.lms_id
        grade = score(row.total)
        stamp = stamps.stamp(f"{grades.assignment.name}|{participant}", grade, now)
        body.append(
            [f"{MOODLE_PARTICIPANT}{participant}", row.identity.name, "", "", grade,
             format_points(grades.points), "", "", stamp, row.comment]
        )  # fmt: skip
    return _csv(MOODLE_COLUMNS, body)


def blackboard_comment_column(graded: list[AssignmentGrades], index: int) -> str:
    """The comment column of one assignment: one "Grader comment", or one each."""
    if len(graded) == 1:
        return BLACKBOARD_COMMENT
    return f"{BLACKBOARD_COMMENT} ({graded[index].assignment.name})"


def blackboard_csv(graded: list[AssignmentGrades]) -> str:
    """Blackboard's Grade Center upload, every value quoted: the user columns,
    each assignment's grade column, then its comment (a text column of its own if
    kept)."""
    header = [*BLACKBOARD_COLUMNS]
    for index, grades in enumerate(graded):
        header.append(grades.assignment.blackboard_column(grades.points))
        header.append(blackboard_comment_column(graded, index))
    body = []
    for identity, rows in _by_student(graded).values():
        cells: list[object] = ["", "", identity.lms_id, ""]
        for row in rows:
            cells += ["", ""] if row is None else [score(row.total), row.comment]
        body.append(cells)
    return _csv(header, body, quote_all=True)


def moodle_file(assignment: LmsAssignment, settings: LmsSettings) -> str:
    """moodle.csv for one assignment; moodle-<name>.csv each for several."""
    if len(settings.columns) == 1:
        return FILES["moodle"]
    return f"moodle-{assignment.slug}.csv"


def zip_name(assignment: LmsAssignment, settings: LmsSettings) -> str:
    """The feedback pages' zip for Moodle: moodle-feedback.zip for one LMS
    assignment; moodle-feedback-<name>.zip each for several (Moodle's
    participant ids are each assignment's own)."""
    if len(settings.columns) == 1:
        return ZIP_FILE
    return f"moodle-feedback-{assignment.slug}.zip"


class GradeStamps:
    """When each Moodle grade last changed, kept in OUT across runs (a JSON file):
    an unchanged grade keeps its stamp, so Moodle's importer skips a row whose
    grade was changed in Moodle since (its stale check)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.kept: dict[str, dict[str, str]] = {}
        if path is not None:
            try:
                kept = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                kept = {}
            if isinstance(kept, dict):
                self.kept = {
                    key: value for key, value in kept.items()
                    if isinstance(value, dict)
                    and isinstance(value.get("grade"), str)
                    and isinstance(value.get("stamp"), str)
                }  # fmt: skip

    def stamp(self, key: str, grade: str, now: datetime) -> str:
        """The time `key`'s grade last changed: its kept stamp when the grade is
        the same, else `now` (ISO 8601, which PHP's strtotime reads)."""
        kept = self.kept.get(key)
        if kept is not None and kept["grade"] == grade:
            return kept["stamp"]
        stamp = now.isoformat(timespec="seconds")
        self.kept[key] = {"grade": grade, "stamp": stamp}
        return stamp

    def save(self, write) -> None:
        """Keep the stamps for the next run (`write(path, text)`)."""
        if self.path is not None:
            write(self.path, json.dumps(self.kept, sort_keys=True, indent=0))


def lms_files(
    results: ClassResults,
    settings: LmsSettings,
    now: datetime,
    stamps: GradeStamps | None = None,
) -> dict[str, str]:
    """file name in OUT/lms -> its text: one file per LMS the class came from (for
    Moodle one per LMS assignment), and README.txt when there is any; {} for a
    class with no LMS's names. stamps: when each Moodle grade last changed
    (default: none kept, every grade stamped `now`)."""
    stamps = stamps or GradeStamps()
    graded = [assignment_grades(results, item) for item in settings.columns]
    by_lms: dict[str, list[AssignmentGrades]] = {}
    for lms in FILES:
        of_lms = [
            AssignmentGrades(
                grades.assignment,
                grades.points,
                [row for row in grades.rows if row.identity.lms == lms],
            )
            for grades in graded
        ]
        if any(grades.rows for grades in of_lms):
            by_lms[lms] = of_lms
    files: dict[str, str] = {}
    if "canvas" in by_lms:
        files[FILES["canvas"]] = canvas_csv(by_lms["canvas"])
    for grades in by_lms.get("moodle", []):
        if grades.rows:
            files[moodle_file(grades.assignment, settings)] = moodle_csv(
                grades, stamps, now
            )
    if "blackboard" in by_lms:
        files[FILES["blackboard"]] = blackboard_csv(by_lms["blackboard"])
    if files:
        files[README_FILE] = readme(by_lms, settings, len(results.students))
    return files


def _students(graded: list[AssignmentGrades]) -> int:
    """How many students have a row in any of these assignments."""
    return len(_by_student(graded))


def _assignments_line(graded: list[AssignmentGrades], column) -> str:
    """The assignments' columns and notebooks, for the README: "'A' (01, 02)"."""
    return "; ".join(
        f"{column(grades)!r} "
        f"({', '.join(map(short_name, grades.assignment.notebooks))})"
        for grades in graded
    )


def readme(
    by_lms: dict[str, list[AssignmentGrades]],
    settings: LmsSettings,
    students: int,
) -> str:
    """OUT/lms/README.txt: what is in each file, what to check, where to upload."""
    columns = settings.columns
    sent = {stem for item in columns for stem in item.notebooks}
    left_out = [stem for stem in settings.course_notebooks if stem not in sent]
    lines = [
        "Grades for your LMS, written by `python -m grader grade` (the course's "
        "README.md: Grades back into the LMS).",
        "Each file has one row per student whose files that LMS named; each LMS "
        "assignment gets their total",
        "over its notebooks (course.toml [lms]), less late penalties (course.toml "
        "[late]). A student who handed in",
        "none of an assignment's notebooks gets no grade for it (the LMS keeps what "
        "it has).",
        f"The class has {students} students; students handed in as a folder of "
        "their own are in none of these files (see grades.csv).",
        "Students with no notebook that could be graded get 0 and a comment.",
        "The grades are the class gradebook's (gradebook.db, or --db): a score "
        "changed in formgrader is here after",
        "`python -m grader grade SUBMISSIONS --out OUT --outputs-only` (or the next "
        "grade run).",
    ]
    if left_out:
        lines.append(
            "Not sent to the LMS (in no [[lms.assignments]]): " + ", ".join(left_out)
        )
    failed = sorted(
        {
            row.identity.lms_id
            for graded in by_lms.values()
            for grades in graded
            for row in grades.rows
            if row.total is None
        }
    )
    if failed:
        lines.append(
            f"NOT GRADED YET ({len(failed)}): the grader failed on a notebook of "
            "theirs, so their grade is left empty (every import skips it); run the "
            "grade command again: " + ", ".join(failed)
        )
    lines.append("")
    if "canvas" in by_lms:
        graded = by_lms["canvas"]
        lines += [
            f"canvas.csv ({_students(graded)} students), columns "
            + _assignments_line(graded, lambda g: g.assignment.canvas_column)
            + ":",
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
        for item in columns:
            if not item.canvas_assignment_id:
                lines += [
                    "  NO ASSIGNMENT ID: Canvas will match an assignment named "
                    f"exactly {item.name!r},",
                    "  or create one. To match by id, set canvas_assignment_id in "
                    "course.toml's [lms] (the number",
                    "  at the end of the assignment's address) and run the grade "
                    "command again: nothing is regraded.",
                ]
        lines.append("")
    for grades in by_lms.get("moodle", []):
        if not grades.rows:
            continue
        name = moodle_file(grades.assignment, settings)
        lines += [
            f"{name} ({len(grades.rows)} students), Moodle's offline grading "
            f"worksheet for {grades.assignment.name!r}:",
            "  The assignment needs Feedback types > Offline grading worksheet (and "
            "Feedback comments),",
            f"  Grade type Point with Maximum grade {format_points(grades.points)}. "
            "Then the assignment > View all",
            "  submissions > Grading action > Upload grading worksheet > "
            f"{name} (UTF-8, comma) >",
            "  Upload grading worksheet; check the summary, then Confirm.",
            "  Use Moodle in English: it finds the columns by their English names.",
            "  A grade changed in Moodle after the grader last changed it is kept: "
            "Moodle skips that row",
            '  ("Last modified (grade)" is when the grader\'s grade last changed).',
            "",
        ]
    for grades in by_lms.get("moodle", []):
        if not grades.rows:
            continue
        name = zip_name(grades.assignment, settings)
        lines += [
            f"{name} ({len(grades.rows)} students): each student's feedback pages, "
            "in a folder named",
            "  as Moodle's download names it (Full Name_<participant id>_"
            "assignsubmission_file). The assignment",
            "  needs Feedback types > Feedback files. Then the assignment > View all "
            "submissions > Grading",
            f"  action: Upload multiple feedback files in a zip > {name} > "
            "Import feedback file(s) >",
            "  Confirm. Each student finds the pages under Feedback files on the "
            "assignment's page; index.html",
            "  (their scores and misconceptions) links to the five notebooks' pages. "
            "The zip must fit the course's",
            "  maximum upload size (Course settings > Files and uploads).",
            "",
        ]
    if "blackboard" in by_lms:
        graded = by_lms["blackboard"]
        flagged = [
            identity.lms_id
            for identity, _ in _by_student(graded).values()
            if cell(identity.lms_id) != identity.lms_id
        ]
        lines += [
            f"blackboard.csv ({_students(graded)} students), columns "
            + _assignments_line(
                graded, lambda g: g.assignment.blackboard_column(g.points)
            )
            + ":",
            "  Grade Center > Full Grade Center > Work Offline > Upload > "
            "blackboard.csv, delimiter Comma >",
            "  Submit; on the confirmation page keep the grade columns, and "
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
        if any(not item.blackboard_column_id for item in columns):
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
    results: ClassResults,
    out: Path,
    settings: LmsSettings,
    now: datetime,
    write,
    stamps: GradeStamps | None = None,
) -> None:
    """Write OUT/lms/'s files with `write(path, text)` (and keep `stamps`); files
    the grader wrote there that this class no longer has (left by an earlier run)
    are removed, and so is the folder when it is left empty."""
    folder = out / LMS_FOLDER
    stamps = stamps or GradeStamps()
    files = lms_files(results, settings, now, stamps)
    for name, text in files.items():
        write(folder / name, text)
    stamps.save(write)
    ours = {*FILES.values(), README_FILE}
    if folder.is_dir():
        ours |= {path.name for path in folder.glob("moodle-*.csv")}
    for name in ours - set(files):
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
