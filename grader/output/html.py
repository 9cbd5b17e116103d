"""The class report, OUT/report.html, rendered from templates/report.html.

This module works out what the report says (as plain values); the template says
how it looks. The Jinja2 environment autoescapes every interpolation, so student
text (ids, messages, details, file names, feedback paths) never becomes markup:
nothing here escapes by hand and nothing is marked safe; and it passes every value
through grader.student_text's HTML sink first (control characters shown as
escapes, length bounded), the grader's drawn images excepted. The page is one file:
CSS in the template, plots as PNG data URIs, no script, nothing fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ..course import ASSIGNMENT
from ..model import ClassResults, Lateness, NotebookGrade, Status
from ..student_text import HTML, safe_text
from . import plots
from .misconceptions import Misconception
from .pages import index_path
from .stats import (
    NO_SUBMISSIONS,
    FailureCount,
    failure_counts,
    format_points,
    grade_table,
    late_summary,
    lookalike_groups,
    max_total,
    mean_total,
    not_graded,
    not_graded_counts,
    notebook_columns,
    notebook_max_scores,
    short_name,
    student_totals,
)
from .text import shorten
from .unnamed_section import UnnamedCard

if TYPE_CHECKING:  # it renders its pages with ENVIRONMENT, below
    from .similarity import CopiesSection

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html"
DEFAULT_TITLE = f"Class report: {ASSIGNMENT}"
TOP_FAILURES = 15  # rows in the "fail most often" table and chart
MESSAGE_CHARS = 160  # longest first line of a failure message shown
OPEN_ROWS = 50  # a list of students or files longer than this starts collapsed
TOP_MISCONCEPTIONS = 25  # rows shown open; the rest in a collapsed table below
PLOTTED_MISCONCEPTIONS = 15  # bars in the misconceptions chart
OPEN_CELLS = 3  # unnamed groups whose answer cell shows open; the rest when opened


def _shown(value: object) -> object:
    """What a {{ }} shows: text made safe for a page (before it is escaped); the
    template's own markup (its macros' output) and drawn images as they are."""
    if isinstance(value, str) and not isinstance(value, Markup | plots.DataUri):
        return safe_text(value, HTML)
    return value


ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every {{ }} is HTML-escaped, in text and in attributes
    finalize=_shown,  # and first made safe: control characters, length
    undefined=StrictUndefined,  # a misspelt name fails the render, not blank
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class FailureRow:
    """One row of "Checks that fail most often"."""

    notebook: str
    test: str
    failed: int
    share: str  # e.g. "75% of 4"
    message: str  # the most common first line, cut to MESSAGE_CHARS


@dataclass(frozen=True)
class ScoreCell:
    """One notebook's cell in the totals table: a score, a status word or "–"."""

    text: str
    bad: bool = False  # a status word: the notebook was not graded
    late: str = ""  # "2 days late: -0.6" for a notebook handed in late


@dataclass(frozen=True)
class Link:
    """A link to one feedback file, relative to OUT."""

    href: str  # percent-encoded path
    label: str  # the notebook's short name, "01"


@dataclass(frozen=True)
class TotalsRow:
    """One student's row in the totals table."""

    student: str
    cells: list[ScoreCell]
    total: str
    links: list[Link]


def headline(results: ClassResults) -> list[tuple[str, str]]:
    """(figure, what it counts): students, notebooks graded and not, mean total,
    unmapped files and groups of look-alike ids when there are any."""
    failed = not_graded(results)
    mean = mean_total(results)
    figures = [
        (str(len(results.students)), "students"),
        (str(len(results.grades) - len(failed)), "notebooks graded"),
        (
            str(len(failed)),
            f"notebooks could not be graded "
            f"({len({grade.student for grade in failed})} students)",
        ),
        (
            f"{'–' if mean is None else format_points(mean)}"
            f" / {format_points(max_total(results))}",
            "mean total score",
        ),
    ]
    if results.unmapped:
        figures.append((str(len(results.unmapped)), "unmapped input files"))
    conflicts = sum(item.conflict for item in results.unmapped)
    if conflicts:
        figures.append((str(conflicts), "files to check: merged or dropped"))
    lookalikes = len(lookalike_groups(results))
    if lookalikes:
        what = "groups of student ids look" if lookalikes > 1 else "group of ids looks"
        figures.append((str(lookalikes), f"{what} alike"))
    return figures


def failure_rows(counts: list[FailureCount]) -> list[FailureRow]:
    """The table rows of the given failing checks, in the order given."""
    return [
        FailureRow(
            count.notebook,
            count.test,
            count.failed,
            f"{count.share:.0%} of {count.graded}",
            shorten(count.message, MESSAGE_CHARS),
        )
        for count in counts
    ]


def feedback_href(path: str) -> str:
    """A feedback file's path relative to OUT as a URL path: "/" kept, rest encoded.

    Percent-encoding makes any id a plain relative path (no scheme, no query);
    the template still escapes the result like any other attribute value.
    """
    return quote(path.replace("\\", "/"), safe="/")


def score_cell(
    grade: NotebookGrade | None, lateness: Lateness | None = None
) -> ScoreCell:
    """A notebook's cell in the totals table: score, status word or a dash, and
    what lateness cost."""
    late = late_summary(lateness) if lateness else ""
    if grade is None:
        return ScoreCell("–")
    if grade.status != Status.OK:
        return ScoreCell(str(grade.status), bad=True, late=late)
    return ScoreCell(format_points(grade.score), late=late)


def totals_rows(results: ClassResults) -> list[TotalsRow]:
    """Per student: each notebook's cell, the total, links to the student's own
    page (the one to share) and to each notebook's feedback page."""
    notebooks = notebook_columns(results)
    totals = student_totals(results)
    rows = []
    for student, by_notebook in grade_table(results).items():
        graded = [by_notebook.get(notebook) for notebook in notebooks]
        pages = [
            Link(feedback_href(grade.feedback), short_name(grade.notebook))
            for grade in graded
            if grade and grade.feedback
        ]
        if pages:
            pages.insert(0, Link(feedback_href(index_path(student)), "page"))
        rows.append(
            TotalsRow(
                student,
                [
                    score_cell(grade, results.late.get((student, grade.notebook)))
                    if grade
                    else score_cell(None)
                    for grade in graded
                ],
                format_points(totals[student]),
                pages,
            )
        )
    return rows


def totals_headers(results: ClassResults) -> list[str]:
    """The notebook columns of the totals table: "01 /4", …"""
    maxima = notebook_max_scores(results)
    return [
        f"{short_name(notebook)} /{format_points(maxima.get(notebook, 0))}"
        for notebook in notebook_columns(results)
    ]


@dataclass(frozen=True)
class MisconceptionRow:
    """One row of "Misconceptions in this class"."""

    label: str  # the mistake's name, or the failing test's first line
    named: bool  # a known mistake of the catalogue (else: a test's own message)
    notebook: str
    count: int
    share: str  # of the class, e.g. "40%"
    meaning: str  # "" when not named
    taught: str  # where the notebook teaches it; "" when not named
    students: str  # the students' ids, comma-separated
    group: str = ""  # an unnamed group's id (the same wrong values): its card's


def share_text(count: int, total: int) -> str:
    """count as a share of total: "40%", "0.5%", "0.02%", never "0%" for some
    and never "100%" for not all (">99%")."""
    if not total:
        return "–"
    percent = 100 * count / total
    if percent < 1:
        return f"{percent:.2g}%"
    if count < total and round(percent) == 100:
        return ">99%"
    return f"{percent:.0f}%"


def misconception_rows(
    misconceptions: list[Misconception], students: int
) -> list[MisconceptionRow]:
    """The table rows of the given misconceptions, in the order given."""
    return [
        MisconceptionRow(
            shorten(row.label, MESSAGE_CHARS),
            row.mistake is not None,
            row.notebook,
            row.count,
            share_text(row.count, students),
            row.mistake.meaning if row.mistake else "",
            row.mistake.taught if row.mistake else "",
            ", ".join(row.students),
            row.group.group_id if row.group else "",
        )
        for row in misconceptions
    ]


def report_context(
    results: ClassResults,
    title: str,
    misconceptions: list[Misconception],
    copies: CopiesSection | None = None,
    unnamed: list[UnnamedCard] = (),
) -> dict[str, object]:
    """Everything the template shows, as plain values (figures already drawn);
    copies: the "Copies" section's (grader.output.similarity.CopiesSection), None
    when none was looked for; unnamed: the cards of the largest unnamed groups."""
    groups = [row for row in misconceptions if row.group]
    context: dict[str, object] = {
        "title": title,
        "copies": copies,
        "graded": bool(results.grades),
        "no_submissions": NO_SUBMISSIONS,
        "unmapped": results.unmapped,
        "conflicts": [item for item in results.unmapped if item.conflict],
        "open_rows": OPEN_ROWS,
    }
    if not results.grades:
        return context
    top = failure_counts(results)[:TOP_FAILURES]
    rows = misconception_rows(misconceptions, len(results.students))
    plotted = misconceptions[:PLOTTED_MISCONCEPTIONS]
    return context | {
        "headline": headline(results),
        "class_size": len(results.students),
        "misconceptions": rows[:TOP_MISCONCEPTIONS],
        "more_misconceptions": rows[TOP_MISCONCEPTIONS:],
        "misconceptions_plot": plots.png_data_uri(
            plots.misconceptions_figure(plotted, len(results.students))
        )
        if plotted
        else "",
        "distribution_plot": plots.png_data_uri(plots.distribution_figure(results)),
        "failures": failure_rows(top),
        "failures_plot": plots.png_data_uri(plots.failures_figure(top)) if top else "",
        "statuses": not_graded_counts(results),
        "not_graded": not_graded(results),
        "totals_plot": plots.png_data_uri(plots.totals_figure(results)),
        "totals_headers": totals_headers(results),
        "totals": totals_rows(results),
        "names": {
            student: identity.name
            for student, identity in results.identities.items()
            if identity.name
        },
        "lookalikes": lookalike_groups(results),
        "unnamed": list(unnamed),
        "open_cells": OPEN_CELLS,
        "unnamed_groups": len(groups),
        "unnamed_students": len({s for row in groups for s in row.students}),
    }


def report_html(
    results: ClassResults,
    misconceptions: list[Misconception],
    title: str = DEFAULT_TITLE,
    copies: CopiesSection | None = None,
    unnamed: list[UnnamedCard] = (),
) -> str:
    """The whole class report as one self-contained HTML document.

    Feedback links are relative to OUT: the page belongs at OUT's top level.
    misconceptions: the class's (class_misconceptions, with the graded course's
    catalogue); copies: the "Copies" section (grader.output.similarity); unnamed:
    the cards of its largest unnamed groups (unnamed_cards).
    """
    template = ENVIRONMENT.get_template(TEMPLATE)
    return template.render(
        report_context(results, title, misconceptions, copies, unnamed)
    )
