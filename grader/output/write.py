"""Writing a run's outputs into OUT: grades.csv, tests.csv, report.html.

Each file is written whole or not at all (grader.files.write_atomically), readable
by its owner only: they hold every student's grades.
"""

from __future__ import annotations

from pathlib import Path

from ..files import write_atomically
from ..model import ClassResults
from .html import report_html
from .tables import grades_csv, tests_csv

GRADES_FILE = "grades.csv"
TESTS_FILE = "tests.csv"
REPORT_FILE = "report.html"  # at OUT's top level: its feedback links are relative


def write_outputs(results: ClassResults, out: Path) -> None:
    """Write OUT/grades.csv, OUT/tests.csv and OUT/report.html for `results`."""
    write_atomically(out / GRADES_FILE, grades_csv(results))
    write_atomically(out / TESTS_FILE, tests_csv(results))
    write_atomically(out / REPORT_FILE, report_html(results))
