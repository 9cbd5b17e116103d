"""A grading run's outputs: grades.csv, tests.csv, the HTML report, the summary.

`python -m grader grade` calls these after grading; the summary is what it prints.

Student ids, messages, details and file names come from students: the HTML escapes
every one of them, the terminal table replaces their control characters.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import os
import re
import statistics
import tempfile
import textwrap
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
from matplotlib.figure import Figure

from .course import ASSIGNMENT, NOTEBOOKS
from .results import (
    CPU_LIMIT,
    GRADER_ERROR,
    GRADES_COLUMNS,
    KERNEL_DIED,
    MEMORY_LIMIT,
    MISSING,
    OK,
    OUTPUT_LIMIT,
    PROCESS_LIMIT,
    STATUSES,
    TESTS_COLUMNS,
    TIMEOUT,
    UNREADABLE,
    WRONG_ASSIGNMENT,
    ClassResults,
    NotebookGrade,
)

DEFAULT_TITLE = f"Class report: {ASSIGNMENT}"
TOP_FAILURES = 15  # rows in the "fail most often" table and chart
MESSAGE_CHARS = 160  # longest first line of a failure message shown in the HTML
TERMINAL_COLUMNS = 100  # the summary table fits this wide a terminal
STUDENT_COLUMNS = 20  # widest student id in the terminal table before it is cut
NO_SUBMISSIONS = "No submissions: nothing was graded."
STATUS_MEANINGS = {
    OK: "graded; the score is what the tests gave",
    MISSING: "the student handed in no such notebook",
    UNREADABLE: "the file is not a notebook (bad JSON, empty file, wrong format)",
    WRONG_ASSIGNMENT: "a notebook, but none of this assignment's cells",
    TIMEOUT: "a cell or the whole notebook ran past its time limit",
    KERNEL_DIED: "the kernel crashed (os._exit, segfault, out of memory)",
    CPU_LIMIT: "the notebook used more CPU time than the limit (its kernel stopped)",
    MEMORY_LIMIT: "the notebook tried to use more memory than the limit",
    PROCESS_LIMIT: "the notebook started more processes or threads than the limit",
    OUTPUT_LIMIT: "the notebook printed more than the output limit",
    GRADER_ERROR: "nbgrader itself failed on this notebook",
}
# Status words in the terminal table, shortened so 5 columns fit 100 characters.
STATUS_LABELS = {WRONG_ASSIGNMENT: "wrong_assign"}
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RULE_LINE = re.compile(r"[-=_~*#\s]*")


# ---------------------------------------------------------------- shared helpers


def format_points(value: float) -> str:
    """A score as a plain number: "4", "2.5", "0.333" (at most 3 decimals)."""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def notebook_order(notebook: str) -> tuple[int, str]:
    """Sort key: released notebooks in course order, anything else after by name."""
    if notebook in NOTEBOOKS:
        return NOTEBOOKS.index(notebook), ""
    return len(NOTEBOOKS), notebook


def notebook_columns(results: ClassResults) -> list[str]:
    """The five released notebooks, then any other notebook named in the results."""
    extra = {grade.notebook for grade in results.grades} - set(NOTEBOOKS)
    return [*NOTEBOOKS, *sorted(extra)]


def short_name(notebook: str) -> str:
    """A notebook's column header: "01_sigmoid" -> "01"."""
    return notebook.split("_", 1)[0]


def sorted_grades(results: ClassResults) -> list[NotebookGrade]:
    """Every row, by student then course notebook order."""
    return sorted(
        results.grades,
        key=lambda grade: (grade.student, notebook_order(grade.notebook)),
    )


def grade_table(results: ClassResults) -> dict[str, dict[str, NotebookGrade]]:
    """student -> notebook -> that student's row, students sorted."""
    table: dict[str, dict[str, NotebookGrade]] = {}
    for grade in sorted_grades(results):
        table.setdefault(grade.student, {})[grade.notebook] = grade
    return table


def student_totals(results: ClassResults) -> dict[str, float]:
    """student -> sum of the scores of all that student's rows."""
    totals: dict[str, float] = {}
    for grade in results.grades:
        totals[grade.student] = totals.get(grade.student, 0.0) + grade.score
    return totals


def notebook_max_scores(results: ClassResults) -> dict[str, float]:
    """notebook -> its max score (the largest max_score any row reports)."""
    maxima: dict[str, float] = {}
    for grade in results.grades:
        maxima[grade.notebook] = max(maxima.get(grade.notebook, 0.0), grade.max_score)
    return maxima


def status_counts(results: ClassResults) -> dict[str, int]:
    """status -> number of rows, known statuses first in STATUSES order."""
    counts = Counter(grade.status for grade in results.grades)
    order = [*STATUSES, *sorted(set(counts) - set(STATUSES))]
    return {status: counts[status] for status in order if counts[status]}


def not_graded(results: ClassResults) -> list[NotebookGrade]:
    """Rows whose status is not "ok", by student then notebook."""
    return [grade for grade in sorted_grades(results) if grade.status != OK]


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide East Asian characters 2, combining 0."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return width


def printable(text: str) -> str:
    """`text` with control and format characters (escapes, newlines) as "?"."""
    return "".join(
        "?" if unicodedata.category(char).startswith("C") else char for char in text
    )


def shorten(text: str, width: int) -> str:
    """`text` cut to at most `width` columns, ending in "…" when cut."""
    if display_width(text) <= width:
        return text
    kept = ""
    for char in text:
        if display_width(kept + char) > width - 1:
            break
        kept += char
    return kept + "…"


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` (UTF-8, newlines as given) to a temp file, then os.replace it.

    Readers see the old file or the new one, never half of one. The file is
    readable by its owner only (mkstemp's 0600): it holds every student's grades.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with open(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# Columns holding text a student controls (what their code printed, file names).
FREE_TEXT_COLUMNS = ("message", "detail", "source")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(text: str) -> str:
    """Text a spreadsheet would run as a formula, prefixed with ' (OWASP's advice)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(columns: Iterable[str], rows: Iterable[dict[str, object]]) -> str:
    """A CSV document with a header; the csv module quotes commas and newlines, and
    free-text cells that a spreadsheet would take for a formula are defused."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(columns))
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                key: defuse_formula(value)
                if key in FREE_TEXT_COLUMNS and isinstance(value, str)
                else value
                for key, value in row.items()
            }
        )
    return buffer.getvalue()


# ---------------------------------------------------------------- CSV files


def grades_row(grade: NotebookGrade) -> dict[str, object]:
    """A grades.csv row with its scores as plain numbers."""
    row = grade.to_row()
    row["score"] = format_points(grade.score)
    row["max_score"] = format_points(grade.max_score)
    return row


def write_grades_csv(results: ClassResults, path: Path) -> None:
    """grades.csv: one row per student and notebook, columns GRADES_COLUMNS."""
    rows = [grades_row(grade) for grade in sorted_grades(results)]
    write_text_atomically(path, csv_text(GRADES_COLUMNS, rows))


def tests_rows(grade: NotebookGrade) -> list[dict[str, object]]:
    """A notebook's tests.csv rows, points as plain numbers, in cell order."""
    rows = grade.test_rows()
    for row in rows:
        row["points"] = format_points(row["points"])
        row["max_points"] = format_points(row["max_points"])
    return rows


def write_tests_csv(results: ClassResults, path: Path) -> None:
    """tests.csv: one row per student and graded test cell, columns TESTS_COLUMNS."""
    rows = [row for grade in sorted_grades(results) for row in tests_rows(grade)]
    write_text_atomically(path, csv_text(TESTS_COLUMNS, rows))


# ---------------------------------------------------------------- failing checks


@dataclass(frozen=True)
class FailureCount:
    """How many graded students lost points on one test cell, and what it said."""

    notebook: str
    test: str
    failed: int  # students whose test earned less than max_points
    graded: int  # students whose notebook was graded ("ok") with this test
    message: str  # the most common first line of the failing students' messages

    @property
    def share(self) -> float:
        """Failed students as a fraction of the graded ones."""
        return self.failed / self.graded if self.graded else 0.0


def first_line(message: str) -> str:
    """The first line that says something: no colour codes, blanks or ---- rules."""
    for line in ANSI_ESCAPE.sub("", message).splitlines():
        if not RULE_LINE.fullmatch(line):
            return line.strip()
    return "(no message)"


def failure_counts(results: ClassResults) -> list[FailureCount]:
    """Tests that graded students failed, most failures first.

    Only notebooks with status "ok" count: a notebook that timed out or could not
    be read says nothing about the test. Ties go by notebook order, then test name.
    """
    graded: Counter[tuple[str, str]] = Counter()
    lines: dict[tuple[str, str], Counter[str]] = {}
    for grade in sorted_grades(results):
        if grade.status != OK:
            continue
        for test in grade.tests:
            key = (grade.notebook, test.test)
            graded[key] += 1
            if test.points < test.max_points:
                lines.setdefault(key, Counter())[first_line(test.message)] += 1
    counts = [
        FailureCount(
            notebook,
            test,
            failed=sum(messages.values()),
            graded=graded[notebook, test],
            message=messages.most_common(1)[0][0],
        )
        for (notebook, test), messages in lines.items()
    ]
    return sorted(
        counts,
        key=lambda count: (-count.failed, notebook_order(count.notebook), count.test),
    )


# ---------------------------------------------------------------- plots


def png_data_uri(figure: Figure) -> str:
    """The figure as an inline PNG (no Software/URL metadata in the file)."""
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None}
    )
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/png;base64,{encoded}"


def plot_label(text: str) -> str:
    """Text matplotlib shows literally ("$" would start mathtext)."""
    return text.replace("$", r"\$")


def score_bins(scores: list[float], max_score: float) -> np.ndarray:
    """Bin edges centred on a 1, 0.5 or 0.25 point grid (≤ 40 bins), else 20 bins."""
    low, high = min(0.0, *scores), max(max_score, *scores)
    for step in (1.0, 0.5, 0.25):
        on_grid = all(float(score / step).is_integer() for score in scores)
        if on_grid and (high - low) / step <= 40:
            return np.arange(low - step / 2, high + step, step)
    return np.linspace(low, max(high, low + 1), 21)


def distribution_figure(results: ClassResults) -> Figure:
    """One small histogram of graded scores per notebook, max score dashed."""
    notebooks = notebook_columns(results)
    maxima = notebook_max_scores(results)
    figure = Figure(figsize=(2.6 * len(notebooks), 2.4))
    axes = figure.subplots(1, len(notebooks), squeeze=False)[0]
    for ax, notebook in zip(axes, notebooks):
        rows = [grade for grade in results.grades if grade.notebook == notebook]
        scores = [grade.score for grade in rows if grade.status == OK]
        max_score = maxima.get(notebook, 0.0)
        title = f"{len(scores)} graded, max {format_points(max_score)}"
        ax.set_title(f"{plot_label(notebook)}\n{title}", fontsize=8)
        ax.set_xlabel("score", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.yaxis.get_major_locator().set_params(integer=True)
        if scores:
            bins = score_bins(scores, max_score)
            ax.hist(scores, bins=bins, color="#4c72b0", edgecolor="white")
        else:
            ax.text(0.5, 0.5, "none graded", ha="center", transform=ax.transAxes)
        if max_score > 0:
            ax.axvline(max_score, color="#c44e52", linestyle="--", linewidth=1)
    axes[0].set_ylabel("students", fontsize=8)
    figure.tight_layout()
    return figure


def failures_figure(failures: list[FailureCount]) -> Figure:
    """Horizontal bars: how many students failed each of the given tests."""
    figure = Figure(figsize=(7, 0.9 + 0.3 * len(failures)))
    ax = figure.subplots()
    labels = [
        plot_label(f"{short_name(count.notebook)} {count.test}") for count in failures
    ]
    positions = np.arange(len(failures))
    ax.barh(positions, [count.failed for count in failures], color="#c44e52")
    ax.set_yticks(positions, labels=labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("students who failed", fontsize=8)
    ax.xaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------- HTML


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 75em;
       padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bad { color: #a02020; font-weight: 600; }
.text { white-space: pre-wrap; max-width: 40em; }
.headline { display: flex; gap: 2em; flex-wrap: wrap; margin: 1em 0 2em; }
.headline div { font-size: 0.9em; color: #555; }
.headline b { display: block; font-size: 1.8em; color: #222; }
img { max-width: 100%; }
dl.legend { font-size: 0.85em; display: grid; grid-template-columns: auto 1fr;
            gap: 0.1em 1em; }
dl.legend dt { font-family: monospace; }
dl.legend dd { margin: 0; }
.note { color: #555; font-style: italic; }
"""


def esc(value: object) -> str:
    """Text made safe for HTML element content and quoted attributes."""
    return html.escape(str(value), quote=True)


def html_table(
    headers: list[str], rows: list[list[str]], numeric: Iterable[int] = ()
) -> str:
    """A table of already-escaped cells; `numeric` columns are right-aligned."""
    right = set(numeric)
    head = "".join(f"<th>{esc(header)}</th>" for header in headers)
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if index in right else f"<td>{cell}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
    )


def headline_html(results: ClassResults) -> str:
    """Students, notebooks graded, notebooks not graded, mean total score."""
    failed = not_graded(results)
    totals = student_totals(results)
    max_total = sum(notebook_max_scores(results).values())
    mean = format_points(statistics.fmean(totals.values())) if totals else "–"
    figures = [
        (len(results.students), "students"),
        (len(results.grades) - len(failed), "notebooks graded"),
        (
            len(failed),
            f"notebooks could not be graded "
            f"({len({grade.student for grade in failed})} students)",
        ),
        (f"{mean} / {format_points(max_total)}", "mean total score"),
    ]
    if results.unmapped:
        figures.append((len(results.unmapped), "unmapped input files"))
    items = "".join(
        f"<div><b>{esc(value)}</b>{esc(label)}</div>" for value, label in figures
    )
    return f'<section class="headline" id="headline">{items}</section>'


def distribution_html(results: ClassResults) -> str:
    """The score-distribution section with its embedded figure."""
    image = png_data_uri(distribution_figure(results))
    return (
        '<section id="distribution"><h2>Score distribution per notebook</h2>\n'
        '<p class="note">Graded ("ok") notebooks only; the dashed line is the '
        "notebook's max score.</p>\n"
        f'<img alt="Histogram of scores per notebook" src="{image}"></section>'
    )


def failures_html(results: ClassResults) -> str:
    """The "checks that fail most often" section: table and bar chart."""
    failures = failure_counts(results)[:TOP_FAILURES]
    heading = '<section id="failures"><h2>Checks that fail most often</h2>\n'
    if not failures:
        return (
            f'{heading}<p class="note">No graded student failed a check.</p></section>'
        )
    rows = [
        [
            esc(count.notebook),
            esc(count.test),
            str(count.failed),
            f"{count.share:.0%} of {count.graded}",
            esc(shorten(count.message, MESSAGE_CHARS)),
        ]
        for count in failures
    ]
    headers = ["notebook", "test", "failed", "share of graded", "most common message"]
    image = png_data_uri(failures_figure(failures))
    return (
        f"{heading}{html_table(headers, rows, numeric=(2, 3))}\n"
        f'<img alt="Students failing each check" src="{image}"></section>'
    )


def legend_html(statuses: Iterable[str]) -> str:
    """A small definition list saying what each status word means."""
    entries = "".join(
        f"<dt>{esc(status)}</dt><dd>{esc(STATUS_MEANINGS.get(status, 'unknown'))}</dd>"
        for status in statuses
    )
    return f'<dl class="legend">{entries}</dl>'


def not_graded_html(results: ClassResults) -> str:
    """Every row whose status is not "ok", with a legend of the status words."""
    rows = not_graded(results)
    heading = '<section id="not-graded"><h2>Notebooks that could not be graded</h2>\n'
    if not rows:
        return f'{heading}<p class="note">Every notebook was graded.</p></section>'
    cells = [
        [
            esc(grade.student),
            esc(grade.notebook),
            f'<span class="bad">{esc(grade.status)}</span>',
            f'<div class="text">{esc(grade.detail)}</div>',
            esc(grade.source),
        ]
        for grade in rows
    ]
    statuses = [status for status in status_counts(results) if status != OK]
    headers = ["student", "notebook", "status", "detail", "source"]
    return f"{heading}{legend_html(statuses)}\n{html_table(headers, cells)}</section>"


def unmapped_html(results: ClassResults) -> str:
    """Input files that could not be assigned to a student and notebook."""
    heading = '<section id="unmapped"><h2>Unmapped input files</h2>\n'
    if not results.unmapped:
        return f'{heading}<p class="note">Every input file was assigned.</p></section>'
    rows = [[esc(item.source), esc(item.reason)] for item in results.unmapped]
    return f"{heading}{html_table(['source', 'reason'], rows)}</section>"


def feedback_link(grade: NotebookGrade) -> str:
    """A link to the row's feedback file (path relative to OUT), or ""."""
    if not grade.feedback:
        return ""
    href = quote(grade.feedback.replace("\\", "/"), safe="/")
    return f'<a href="{esc(href)}">{esc(short_name(grade.notebook))}</a>'


def score_cell(grade: NotebookGrade | None) -> str:
    """One notebook's cell in the totals table: score, status word or a dash."""
    if grade is None:
        return "–"
    if grade.status != OK:
        return f'<span class="bad">{esc(grade.status)}</span>'
    return esc(format_points(grade.score))


def totals_html(results: ClassResults) -> str:
    """Per-student totals with links to the feedback files."""
    notebooks = notebook_columns(results)
    maxima = notebook_max_scores(results)
    totals = student_totals(results)
    notebook_headers = [
        f"{short_name(notebook)} /{format_points(maxima.get(notebook, 0))}"
        for notebook in notebooks
    ]
    headers = ["student", *notebook_headers, "total", "feedback"]
    rows = []
    for student, by_notebook in grade_table(results).items():
        links = (
            feedback_link(by_notebook[nb]) for nb in notebooks if nb in by_notebook
        )
        rows.append(
            [
                esc(student),
                *(score_cell(by_notebook.get(notebook)) for notebook in notebooks),
                esc(format_points(totals[student])),
                " ".join(link for link in links if link),
            ]
        )
    numeric = range(1, len(notebooks) + 2)
    return (
        '<section id="totals"><h2>Totals per student</h2>\n'
        '<p class="note">Feedback links are relative to the output folder.</p>\n'
        f"{html_table(headers, rows, numeric=numeric)}</section>"
    )


def report_html(results: ClassResults, title: str) -> str:
    """The whole class report as one self-contained HTML document."""
    if results.grades:
        sections = [
            headline_html(results),
            distribution_html(results),
            failures_html(results),
            not_graded_html(results),
            unmapped_html(results),
            totals_html(results),
        ]
    else:
        sections = [f'<p class="note" id="no-submissions">{esc(NO_SUBMISSIONS)}</p>']
        if results.unmapped:
            sections.append(unmapped_html(results))
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<h1>{esc(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def write_class_report(
    results: ClassResults, path: Path, title: str = DEFAULT_TITLE
) -> None:
    """Write the class report: one HTML file, plots and CSS inline, nothing fetched.

    Feedback links are relative to OUT, so write the report at OUT's top level.
    """
    write_text_atomically(path, report_html(results, title))


# ---------------------------------------------------------------- terminal table


def pad(text: str, width: int, right: bool) -> str:
    """`text` padded with spaces to `width` columns, flush right or left."""
    spaces = " " * (width - display_width(text))
    return spaces + text if right else text + spaces


def aligned_line(cells: list[str], widths: list[int]) -> str:
    """One table line: the first cell flush left, the others flush right."""
    padded = [
        pad(cell, width, right=index > 0)
        for index, (cell, width) in enumerate(zip(cells, widths))
    ]
    return "  ".join(padded)


def summary_cell(grade: NotebookGrade | None) -> str:
    """A notebook's cell in the terminal table: score, status word or "-"."""
    if grade is None:
        return "-"
    if grade.status != OK:
        return STATUS_LABELS.get(grade.status, grade.status)
    return format_points(grade.score)


def counts_lines(results: ClassResults) -> list[str]:
    """E.g. "notebooks: ok 12, missing 2, timeout 1", wrapped to the terminal."""
    counts = ", ".join(f"{status} {n}" for status, n in status_counts(results).items())
    return textwrap.wrap(
        f"notebooks: {counts}", width=TERMINAL_COLUMNS, subsequent_indent="  "
    )


def summary_table(results: ClassResults) -> str:
    """The plain-text table printed after a run, then counts per status.

    One row per student, one column per notebook ("01".."05": score, or the status
    word when not graded), a total column; columns aligned.
    """
    table = student_lines(results) if results.grades else [NO_SUBMISSIONS]
    if results.unmapped:
        table.append(f"unmapped input files: {len(results.unmapped)}")
    return "\n".join(table)


def student_lines(results: ClassResults) -> list[str]:
    """The aligned header and student lines, a blank line, the status counts."""
    notebooks = notebook_columns(results)
    totals = student_totals(results)
    lines = [["student", *(short_name(notebook) for notebook in notebooks), "total"]]
    for student, by_notebook in grade_table(results).items():
        lines.append(
            [
                shorten(printable(student), STUDENT_COLUMNS),
                *(summary_cell(by_notebook.get(notebook)) for notebook in notebooks),
                format_points(totals[student]),
            ]
        )
    widths = [
        max(display_width(line[i]) for line in lines) for i in range(len(lines[0]))
    ]
    table = [aligned_line(line, widths) for line in lines]
    return [*table, "", *counts_lines(results)]
