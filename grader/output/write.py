"""Writing a run's outputs into OUT: grades.csv, tests.csv, misconceptions.csv,
unnamed-mistakes.json (the values of the unnamed groups, for `python -m grader
mistake-entry`), report.html, similarity.csv and a page per flagged pair (when
copies were looked for), and OUT/lms/ for a class downloaded from an LMS (with the
feedback pages in moodle-feedback.zip for a class from Moodle).

Each file is written whole or not at all (grader.files.write_atomically), readable
by its owner only: they hold every student's grades.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..course import Course
from ..files import write_atomically
from ..model import ClassResults
from ..similarity.copies import CopiesReport
from .html import report_html
from .lms import GradeStamps, LmsSettings, write_lms_files
from .misconceptions import class_misconceptions, misconceptions_csv
from .moodle_feedback import write_moodle_feedback
from .similarity import copies_section, write_copies
from .tables import grades_csv, tests_csv
from .unnamed import GROUPS_FILE, groups_json
from .unnamed_section import unnamed_cards

GRADES_FILE = "grades.csv"
TESTS_FILE = "tests.csv"
MISCONCEPTIONS_FILE = "misconceptions.csv"
REPORT_FILE = "report.html"  # at OUT's top level: its feedback links are relative


def write_outputs(
    results: ClassResults,
    out: Path,
    course: Course,
    *,
    lms: LmsSettings | None = None,
    now: datetime | None = None,
    stamps: Path | None = None,
    copies: CopiesReport | None = None,
) -> None:
    """Write OUT's files for `results`: the three CSV files and the report, then
    OUT/lms/ (grader.output.lms, grader.output.moodle_feedback).

    course: the course as graded (OUT's copy: its catalogue names the class's
    mistakes); lms: the LMS settings (the graded course's course.toml; default:
    LmsSettings()); now: the time the LMS files say the grades were given
    (default: now, in the local time zone); stamps: the file that keeps when each
    Moodle grade last changed across runs (default: none kept); copies: the
    copies found (grader.similarity), written as similarity.csv, pages and a
    report section.
    """
    misconceptions = class_misconceptions(results, course)
    groups = [row.group for row in misconceptions if row.group]
    write_atomically(out / GRADES_FILE, grades_csv(results))
    write_atomically(out / TESTS_FILE, tests_csv(results))
    write_atomically(out / MISCONCEPTIONS_FILE, misconceptions_csv(misconceptions))
    write_atomically(out / GROUPS_FILE, groups_json(groups))
    if copies is not None:
        write_copies(copies, out)
    section = copies_section(copies) if copies is not None else None
    cards = unnamed_cards(groups, out, course)
    write_atomically(
        out / REPORT_FILE,
        report_html(results, misconceptions, copies=section, unnamed=cards),
    )
    settings = lms or LmsSettings()
    write_moodle_feedback(results, out, settings)  # first: an empty OUT/lms/ goes
    write_lms_files(
        results, out, settings, now or datetime.now().astimezone(),
        write_atomically, GradeStamps(stamps),
    )  # fmt: skip
