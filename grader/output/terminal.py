"""What `python -m grader grade` prints: its warnings, and the summary after a run.

The summary table has one line per student with each notebook's score (or status
word) and the total, then the number of notebooks per status; a class of more than
SUMMARY_STUDENTS shows its problem students only. It fits a 100-column terminal;
student ids show their control characters as visible escapes (grader.student_text),
so no id can move the cursor or clear the screen. Then the files nobody could be
matched to, what the run has to say (workers refused or without a sandbox, students
graded without it), and where the outputs are.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from ..model import (
    ClassResults,
    NotebookGrade,
    RefusedWorker,
    RunReport,
    RunWarning,
    Status,
)
from ..student_text import TERMINAL, safe_text
from .similarity import SIMILARITY_FILE
from .stats import (
    NO_SUBMISSIONS,
    format_points,
    grade_table,
    lookalike_groups,
    notebook_columns,
    short_name,
    status_counts,
    student_totals,
)
from .text import display_width, shorten
from .write import GRADES_FILE, REPORT_FILE, TESTS_FILE

TERMINAL_COLUMNS = 100  # the summary table fits this wide a terminal
STUDENT_COLUMNS = 20  # widest student id in the table before it is cut
# Status words in the table, shortened so the notebook columns fit 100 characters.
STATUS_LABELS = {Status.WRONG_ASSIGNMENT: "wrong_assign"}
SUMMARY_STUDENTS = 40  # a larger class's summary shows its problem students only
UNSANDBOXED_NAMED = 20  # students named in the notice on those graded unsandboxed


def run_summary(report: RunReport, out: Path, db: str | None = None) -> str:
    """Everything printed after a run: the class's summary, the unmapped files,
    the notices (NOTE:), and where the outputs (and the gradebook, `db` or OUT's)
    are."""
    results = report.results
    lines = [class_summary(results, out)]
    conflicts = [item for item in results.unmapped if item.conflict]
    if conflicts:
        listed = "\n".join(
            f"  {safe_text(item.source, TERMINAL)}: {safe_text(item.reason, TERMINAL)}"
            for item in conflicts[:SUMMARY_STUDENTS]
        )
        more = (
            f"\n  … all of them in {out / REPORT_FILE}"
            if len(conflicts) > SUMMARY_STUDENTS
            else ""
        )
        lines.append(
            loud(
                f"CHECK: {len(conflicts)} file(s) may be a student's work and were "
                "not graded (two ids that would have been one student, or a copy "
                f"that is not plainly an older one of the same student's):\n"
                f"{listed}{more}"
            )
        )
    if results.unmapped:
        lines += ["", f"{len(results.unmapped)} file(s) could not be matched to a "
                  "student:"]  # fmt: skip
        for item in results.unmapped[:SUMMARY_STUDENTS]:
            source, reason = (
                safe_text(text, TERMINAL) for text in (item.source, item.reason)
            )
            lines.append(f"  {source}: {reason}")
        if len(results.unmapped) > SUMMARY_STUDENTS:
            lines.append(f"  … all of them in {out / REPORT_FILE}")
    for notice in notices(report):
        lines += ["", f"NOTE: {notice}"]
    lines += [
        "",
        f"grades:   {out / GRADES_FILE}",
        f"tests:    {out / TESTS_FILE}",
        f"feedback: {out / 'feedback'}/<student>/index.html (a page per student, "
        "linking one per notebook)",
        f"report:   {out / REPORT_FILE}",
        f"copies:   {out / SIMILARITY_FILE} (evidence to read; no grade changed)",
        f"gradebook (nbgrader export / formgrader from {out}): "
        + (db or "gradebook.db"),
    ]
    return "\n".join(lines)


def class_summary(results: ClassResults, out: Path) -> str:
    """The summary table; for a class of more than SUMMARY_STUDENTS, its problem
    students only: those with a notebook not ok, then the lowest totals."""
    students = results.students
    if len(students) <= SUMMARY_STUDENTS:
        return summary_table(results)
    totals = student_totals(results)
    trouble = {g.student for g in results.grades if g.status not in ("ok", "missing")}
    ranked = sorted(students, key=lambda s: (s not in trouble, totals[s], s))
    shown = set(ranked[:SUMMARY_STUDENTS])
    subset = ClassResults([g for g in results.grades if g.student in shown])
    return "\n".join(
        [
            f"{len(students)} students; below, the {SUMMARY_STUDENTS} with a notebook "
            "that could not be graded fully or the lowest totals (every student: "
            f"{out / GRADES_FILE}, {out / REPORT_FILE})",
            *table_lines(subset),
            "",
            *counts_lines(results),
        ]
    )


def notices(report: RunReport) -> list[str]:
    """What the summary says beside the grades: each refused worker, each worker
    without a sandbox, and the students graded without it."""
    found = []
    for warning in report.warnings:
        if isinstance(warning, RefusedWorker):
            found.append(f"refused worker {warning.worker}: {warning.why}")
        elif warning.worker:
            found.append(
                f"worker {warning.worker} has no sandbox ({warning.problem}): its "
                "students were graded without it"
            )
    if report.unsandboxed:
        names = ", ".join(report.unsandboxed[:UNSANDBOXED_NAMED])
        found.append(
            f"{len(report.unsandboxed)} student(s) graded WITHOUT the sandbox "
            f"(their worker has none): {names}"
        )
    if report.not_regraded:
        names = ", ".join(report.not_regraded[:UNSANDBOXED_NAMED])
        found.append(
            f"--outputs-only: {len(report.not_regraded)} student(s) have new or "
            "changed files (or were never graded, or a grader_error to try again) "
            f"and were not graded: {names}; their last grades, if any, are in the "
            "files. Run the grade command without --outputs-only to grade them."
        )
    return found


def warning_text(warning: RunWarning) -> str:
    """A warning as it is printed when it comes (on stderr): grading without the
    sandbox between two rules of '!', so that it is not missed."""
    if isinstance(warning, RefusedWorker):
        return f"refused worker {warning.worker}: {warning.why}"
    if warning.worker:
        return loud(
            f"WARNING: worker {warning.worker} grades WITHOUT a sandbox: "
            f"{warning.problem}.\nStudents' code runs there as the worker's user, "
            "with its files and network. Install bubblewrap there,\nor pass "
            "--sandbox required to refuse such workers."
        )
    return loud(
        f"WARNING: grading WITHOUT a sandbox: {warning.problem}.\n"
        "Students' code runs as you, with your files and network. Install "
        "bubblewrap (`make setup`),\nor pass --sandbox off to accept this, or "
        "--sandbox required to refuse."
    )


def loud(warning: str) -> str:
    """A warning between two rules of '!', so that it is not missed."""
    rule = "!" * 78
    return f"\n{rule}\n{warning}\n{rule}"


def summary_table(results: ClassResults) -> str:
    """The plain-text table printed after a run, then counts per status.

    One row per student, one column per notebook ("01".."05": score, or the status
    word when not graded), a total column; columns aligned.
    """
    table = student_lines(results) if results.grades else [NO_SUBMISSIONS]
    if results.unmapped:
        table.append(f"unmapped input files: {len(results.unmapped)}")
    lookalikes = len(lookalike_groups(results))
    if lookalikes:
        groups = "groups" if lookalikes > 1 else "group"
        table.append(
            f"student ids that look alike: {lookalikes} {groups} (see report.html)"
        )
    return "\n".join(table)


def student_lines(results: ClassResults) -> list[str]:
    """The aligned header and student lines, a blank line, the status counts."""
    return [*table_lines(results), "", *counts_lines(results)]


def table_lines(results: ClassResults) -> list[str]:
    """The aligned header and one line per student."""
    notebooks = notebook_columns(results)
    totals = student_totals(results)
    lines = [["student", *(short_name(notebook) for notebook in notebooks), "total"]]
    for student, by_notebook in grade_table(results).items():
        lines.append(
            [
                shorten(safe_text(student, TERMINAL), STUDENT_COLUMNS),
                *(summary_cell(by_notebook.get(notebook)) for notebook in notebooks),
                format_points(totals[student]),
            ]
        )
    widths = [
        max(display_width(line[i]) for line in lines) for i in range(len(lines[0]))
    ]
    return [aligned_line(line, widths) for line in lines]


def summary_cell(grade: NotebookGrade | None) -> str:
    """A notebook's cell in the table: score, status word or "-"."""
    if grade is None:
        return "-"
    if grade.status != Status.OK:
        return STATUS_LABELS.get(grade.status, str(grade.status))
    return format_points(grade.score)


def counts_lines(results: ClassResults) -> list[str]:
    """E.g. "notebooks: ok 12, missing 2, timeout 1", wrapped to the terminal."""
    counts = ", ".join(f"{status} {n}" for status, n in status_counts(results).items())
    return textwrap.wrap(
        f"notebooks: {counts}", width=TERMINAL_COLUMNS, subsequent_indent="  "
    )


def aligned_line(cells: list[str], widths: list[int]) -> str:
    """One table line: the first cell flush left, the others flush right."""
    padded = [
        pad(cell, width, right=index > 0)
        for index, (cell, width) in enumerate(zip(cells, widths))
    ]
    return "  ".join(padded)


def pad(text: str, width: int, right: bool) -> str:
    """`text` padded with spaces to `width` columns, flush right or left."""
    spaces = " " * (width - display_width(text))
    return spaces + text if right else text + spaces
