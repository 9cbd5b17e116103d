"""The class report: its sections and facts, escaping, one self-contained file."""

from __future__ import annotations

import base64
import importlib.resources
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import markupsafe
import pytest

from grader.model import (
    ClassResults,
    Identity,
    Lateness,
    NotebookGrade,
    Status,
    Unmapped,
)
from grader.model import TestResult as CellResult
from grader.output.html import (
    ENVIRONMENT,
    MESSAGE_CHARS,
    OPEN_ROWS,
    TEMPLATE,
    TEMPLATES,
)

from .page import Element, Page, parse
from .sample import (
    BOB,
    EVIL,
    GRADCHECK,
    NOT_OK_ROWS,
    OPTIMIZERS,
    SIGMOID,
    ZOE,
    broken,
    failed,
    graded,
    passed,
    report,
)

SECTIONS = [
    "headline", "misconceptions", "distribution", "failures", "not-graded",
    "unmapped", "lookalikes", "totals",
]  # fmt: skip


def rows_of(page: Page, section_id: str) -> list[list[str]]:
    """The data rows (not the header) of every table in one section."""
    section = page.root.by_id(section_id)
    return [
        [cell.words() for cell in row.iter() if cell.tag == "td"]
        for row in section.find_all("tr")
        if not row.find_all("th")
    ]


def links(page: Page) -> list[Element]:
    """Links to feedback files (not the page's own #section links)."""
    return [a for a in page.root.find_all("a") if not a.attrs["href"].startswith("#")]


# ---------------------------------------------------------------- structure


@pytest.mark.parametrize("section_id", SECTIONS)
def test_report_has_every_section(page, section_id):
    """Each of the report's sections is there, with something in it."""
    assert page.root.by_id(section_id).words()


def test_report_is_well_formed(page):
    """Every opened tag is closed in order: escaping left no stray markup."""
    assert page.problems == []
    assert page.unclosed == []


def test_report_references_nothing_outside_itself(html_report, page):
    """No URL, stylesheet, script or font to fetch; links are relative paths or
    point at a section of the page itself."""
    assert "http://" not in html_report
    assert "https://" not in html_report
    for needle in ("<link", "<script", "@import", "url("):
        assert needle not in html_report.lower()
    ids = {element.attrs.get("id") for element in page.root.iter()}
    for element in page.root.iter():
        for name in ("href", "src"):
            value = element.attrs.get(name)
            if value is None or value.startswith("data:image/png;base64,"):
                continue
            parts = urlsplit(value)
            assert (parts.scheme, parts.netloc) == ("", ""), element
            if value.startswith("#"):
                assert value[1:] in ids


def test_report_embeds_its_plots_as_png(page):
    """Four plots (misconceptions, per-notebook scores, failing checks, totals),
    inline PNG."""
    sources = [image.attrs["src"] for image in page.root.find_all("img")]
    assert len(sources) == 4
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        png = base64.b64decode(source.removeprefix("data:image/png;base64,"))
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    for section_id in ("misconceptions", "distribution", "failures", "totals"):
        assert page.root.by_id(section_id).find_all("img")


# ---------------------------------------------------------------- the facts


def test_report_headline_counts_students_graded_and_not_graded(page):
    """Students, graded and ungraded notebooks, mean total out of the max total."""
    figures = [div.words() for div in page.root.by_id("headline").find_all("div")]
    assert figures == [
        "4 students",
        f"{20 - NOT_OK_ROWS} notebooks graded",
        f"{NOT_OK_ROWS} notebooks could not be graded (3 students)",
        "5.125 / 14 mean total score",
        "2 unmapped input files",
    ]


def test_report_failure_table_shows_count_share_and_first_line(page):
    """The most failed check comes first: 3 of 4 graded, its first line only."""
    rows = rows_of(page, "failures")
    assert rows[0] == [
        SIGMOID,
        "test_sigmoid_values",
        "3",
        "75% of 4",
        "AssertionError: sigmoid(0) should be 0.5",
    ]
    assert [row[1] for row in rows] == [
        "test_sigmoid_values",
        "test_gradient_check",
        "test_forward_values",
    ]


def test_report_shows_at_most_15_failing_checks():
    """A class failing 20 different checks gets the top 15 in the table."""
    tests = [failed(f"test_{n:02}", 1, "m") for n in range(20)]
    page = parse(report(ClassResults([graded("s", SIGMOID, *tests)])))
    names = [row[1] for row in rows_of(page, "failures")]
    assert names == [f"test_{n:02}" for n in range(15)]


def test_report_cuts_long_failure_messages():
    """A failure's first line is cut to MESSAGE_CHARS, ending in "…"."""
    grade = graded("s", SIGMOID, failed("t", 1, "x" * 1000))
    (row,) = rows_of(parse(report(ClassResults([grade]))), "failures")
    assert row[-1] == "x" * (MESSAGE_CHARS - 1) + "…"


def test_report_says_when_no_graded_student_failed_a_check():
    """No failures: a sentence instead of an empty table and chart."""
    page = parse(report(ClassResults([graded("s", SIGMOID, passed("t", 1))])))
    failures = page.root.by_id("failures")
    assert "No graded student failed a check." in failures.words()
    assert not failures.find_all("table")
    assert not failures.find_all("img")


def test_report_lists_every_notebook_that_could_not_be_graded(page):
    """One row per non-"ok" row with its status and detail, by student."""
    section = page.root.by_id("not-graded")
    (listing,) = [
        t for t in section.find_all("table") if t.attrs.get("class") != "statuses"
    ]
    rows = [row for row in listing.rows() if row[0] != "student"]
    assert len(rows) == NOT_OK_ROWS
    assert [BOB, "02_forward_propagation", "timeout", "cell 7 ran past 60 s"] in [
        row[:4] for row in rows
    ]
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)


def test_report_explains_and_counts_each_status_that_occurs(page):
    """Each status but "ok" that occurs: its meaning, notebooks and students."""
    (table,) = [
        t
        for t in page.root.by_id("not-graded").find_all("table")
        if t.attrs.get("class") == "statuses"
    ]
    assert table.rows()[1:] == [
        [str(status), status.meaning, str(notebooks), str(students)]
        for status, notebooks, students in [
            (Status.MISSING, 3, 2),
            (Status.UNREADABLE, 2, 2),
            (Status.WRONG_ASSIGNMENT, 1, 1),
            (Status.TIMEOUT, 1, 1),
            (Status.KERNEL_DIED, 1, 1),
            (Status.GRADER_ERROR, 1, 1),
        ]
    ]


def test_every_status_has_a_meaning_to_explain_it():
    """Whatever status the grader writes, the report can explain it."""
    assert all(status.meaning.strip() for status in Status)


def test_report_lists_unmapped_files_with_their_reason(page):
    """Each input file that was not assigned, and why."""
    assert rows_of(page, "unmapped") == [
        ["bulk.zip:readme.txt", "not a notebook"],
        ["stray, <b>odd</b>.ipynb", "no student id in the name"],
    ]


def test_report_totals_show_scores_status_words_and_totals(page):
    """Bob's row: 3, timeout, missing, 1, kernel_died, total 4, his own page and
    two notebooks' pages."""
    bob = next(row for row in rows_of(page, "totals") if row[0] == BOB)
    assert bob == [
        BOB, "3", "timeout", "missing", "1", "kernel_died", "4", "page 01 04"
    ]  # fmt: skip


def test_report_totals_show_what_a_late_notebook_cost_and_the_total_after_it(
    results,
):
    """Bob's 01 handed in a day late, 0.3 off: under its score, and off his total."""
    due = datetime(2026, 11, 20, 23, 59, tzinfo=UTC)
    late = replace(
        results, late={(BOB, SIGMOID): Lateness(due + timedelta(hours=2), due, 0.3)}
    )
    bob = next(row for row in rows_of(parse(report(late)), "totals") if row[0] == BOB)
    assert bob[1:2] + bob[6:7] == ["3 1 day late: -0.3", "3.7"]


def test_report_totals_headers_give_each_notebooks_max_score(page):
    """Notebook columns are headed "01 /3" … by the largest max score seen."""
    header = page.root.by_id("totals").find_all("table")[0].rows()[0]
    assert header == ["student", "01 /3", "02 /3", "03 /3", "04 /2", "05 /3", "total",
                      "feedback"]  # fmt: skip


def test_report_links_each_feedback_file_by_its_relative_path(page, results):
    """A link for every non-empty feedback path, percent-encoded; none for "";
    and one to the own page of each student who has a feedback page."""
    hrefs = {a.attrs["href"] for a in links(page)}
    expected = {quote(grade.feedback) for grade in results.grades if grade.feedback}
    expected |= {
        quote(f"feedback/{grade.student}/index.html")
        for grade in results.grades
        if grade.feedback
    }
    assert hrefs == expected
    assert f"feedback/{ZOE}/{OPTIMIZERS}.html" not in hrefs
    assert quote(f"feedback/{EVIL}/{SIGMOID}.html") in hrefs


def test_report_feedback_links_use_forward_slashes():
    """A feedback path written with "\\" (Windows) links with "/"."""
    grade = graded("s", SIGMOID, passed("t", 1))
    grade.feedback = "feedback\\s\\01_sigmoid.html"
    own, link = links(parse(report(ClassResults([grade]))))
    assert own.attrs["href"] == "feedback/s/index.html"
    assert link.attrs["href"] == "feedback/s/01_sigmoid.html"


def test_report_draws_dollar_signs_in_test_names_and_shows_them(tmp_path):
    """A "$" in a test name is drawn literally and written as it is."""
    grade = graded("s", SIGMOID, failed("test_$cost", 1, "m"))
    assert "test_$cost" in report(ClassResults([grade]))


# ---------------------------------------------------------------- no submissions


def test_no_submissions_report_says_so():
    """Empty results: a well-formed page with one note, no empty sections."""
    page = parse(report(ClassResults([])))
    assert page.problems == page.unclosed == []
    assert page.root.by_id("no-submissions").words() == (
        "No submissions: nothing was graded."
    )
    assert not page.root.find_all("section")


def test_no_submissions_report_still_lists_unmapped_files():
    """If every input file was unmappable, the report says which ones."""
    only_unmapped = ClassResults([], [Unmapped("notes.txt", "not a notebook")])
    page = parse(report(only_unmapped))
    assert page.root.by_id("no-submissions")
    assert rows_of(page, "unmapped") == [["notes.txt", "not a notebook"]]


# ---------------------------------------------------------------- a large class


def many_students(count: int) -> ClassResults:
    """`count` students, each with one missing notebook; as many stray files."""
    grades = [
        row
        for n in range(count)
        for row in (
            graded(f"s{n:05}", SIGMOID, passed("t", 1)),
            broken(f"s{n:05}", GRADCHECK, Status.MISSING, "no such file"),
        )
    ]
    unmapped = [Unmapped(f"stray{n}.txt", "not a notebook") for n in range(count)]
    return ClassResults(grades, unmapped)


@pytest.mark.parametrize(
    ("students", "collapsed"), [(OPEN_ROWS, False), (OPEN_ROWS + 1, True)]
)
def test_lists_with_a_row_per_student_or_file_start_collapsed_when_long(
    students, collapsed
):
    """Past OPEN_ROWS rows, the per-student and per-file tables sit in a closed
    <details> after the section's summary, so a large class's report opens on
    distributions and counts; up to OPEN_ROWS they are open."""
    page = parse(report(many_students(students)))
    for section_id in ("not-graded", "unmapped", "totals"):
        (details,) = page.root.by_id(section_id).find_all("details")
        assert ("open" not in details.attrs) is collapsed
        assert f"({students})" in details.find_all("summary")[0].words()
        assert len(details.find_all("tr")) == 1 + students
    status_table = page.root.by_id("not-graded").find_all("table")[0]
    assert status_table.rows()[1][0::2] == ["missing", str(students)]


# ---------------------------------------------------------------- escaping


def payload(field: str) -> str:
    """Text that becomes markup, or leaves an attribute, unless it is escaped."""
    return f"<script>alert('{field}')</script>\" onmouseover=\"alert('{field}')"


FIELDS = ["student", "notebook", "test", "message", "detail", "source", "reason",
          "unmapped source", "feedback"]  # fmt: skip


def hostile_class() -> ClassResults:
    """Every student-controlled field of the results holds payload(field)."""
    student, notebook = payload("student"), payload("notebook")
    grade = NotebookGrade(
        student,
        notebook,
        0,
        2,
        Status.OK,
        feedback=f"feedback/{payload('feedback')}.html",
        tests=[CellResult(payload("test"), 0, 2, payload("message"))],
    )
    not_graded = NotebookGrade(
        student,
        SIGMOID,
        0,
        3,
        Status.UNREADABLE,
        detail=payload("detail"),
        source=payload("source"),
    )
    unmapped = Unmapped(payload("unmapped source"), payload("reason"))
    return ClassResults([grade, not_graded], [unmapped])


@pytest.fixture(scope="module")
def hostile_report() -> str:
    """The report of hostile_class, as text."""
    return report(hostile_class())


def test_no_student_text_becomes_markup_or_an_attribute(hostile_report):
    """No script element, no event-handler attribute, no raw "<script" or '"
    onmouseover=' anywhere: every field was escaped, in text and attributes."""
    page = parse(hostile_report)
    assert page.problems == page.unclosed == []
    assert not page.root.find_all("script")
    for element in page.root.iter():
        assert not [name for name in element.attrs if name.startswith("on")]
    assert "<script" not in hostile_report.lower()
    assert '" onmouseover=' not in hostile_report


@pytest.mark.parametrize("field", [f for f in FIELDS if f != "feedback"])
def test_each_student_field_is_shown_escaped_exactly_once(hostile_report, field):
    """The field's text reaches the reader unchanged: escaped once, not twice."""
    text = payload(field)
    assert str(markupsafe.escape(text)) in hostile_report
    assert text in parse(hostile_report).root.text()
    assert "&amp;lt;" not in hostile_report


def test_a_hostile_feedback_path_is_percent_encoded_in_its_link(hostile_report):
    """Each href is its path percent-encoded (the hostile student's own page and
    the hostile feedback path): no quote, no bracket, no scheme."""
    own, link = links(parse(hostile_report))
    assert link.attrs["href"] == quote(f"feedback/{payload('feedback')}.html")
    assert own.attrs["href"].endswith("/index.html")
    for href in (own.attrs["href"], link.attrs["href"]):
        assert not re.search(r"[<>\"' ]", href)
        assert urlsplit(href).scheme == ""


def test_the_template_engine_autoescapes_and_nothing_is_marked_safe():
    """Escaping is the environment's job: autoescape on, no |safe, no Markup, no
    autoescape false block in the template."""
    template = (TEMPLATES / TEMPLATE).read_text(encoding="utf-8")
    assert ENVIRONMENT.autoescape is True
    for needle in ("|safe", "| safe", "autoescape false", "Markup"):
        assert needle not in template
    rendered = ENVIRONMENT.from_string("{{ text }}").render(text="<b>")
    assert rendered == "&lt;b&gt;"


def test_the_template_ships_inside_the_package():
    """report.html is a data file of grader.output, where the loader looks."""
    shipped = importlib.resources.files("grader.output") / "templates" / TEMPLATE
    assert shipped.is_file()
    assert TEMPLATES == importlib.resources.files("grader.output") / "templates"


# ---------------------------------------------------------------- what the LMS knows


def test_conflicts_come_first_and_count_in_the_headline():
    """A file that may be a student's work and was merged or dropped is listed
    apart, above the other unmapped files, and counted at the top."""
    conflict = Unmapped("first/ada_1_2_01_sigmoid.ipynb", "duplicate of …", True)
    results = ClassResults(
        [graded("1", SIGMOID, passed("t", 1))],
        [Unmapped("notes.txt", "not a notebook"), conflict],
    )
    page = parse(report(results))
    assert "1 file" in page.root.by_id("conflicts").words()
    first = page.root.by_id("unmapped").find_all("table")[0]
    assert first.rows()[1:] == [[conflict.source, conflict.reason]]
    figures = [div.words() for div in page.root.by_id("headline").find_all("div")]
    assert "1 files to check: merged or dropped" in figures


def test_no_conflict_no_conflict_list():
    page = parse(report(ClassResults([graded("1", SIGMOID, passed("t", 1))])))
    assert not [e for e in page.root.iter() if e.attrs.get("id") == "conflicts"]


def test_the_totals_show_the_lms_name_beside_the_id_escaped():
    results = ClassResults(
        [graded("21", SIGMOID, passed("t", 1)), graded("bob", SIGMOID, passed("t", 1))],
        identities={"21": Identity("moodle", "21", "<b>Ada</b> Lovelace")},
    )
    html = report(results)
    assert "<b>Ada</b>" not in html
    table = parse(html).root.by_id("totals").find_all("table")[0]
    assert [row[:2] for row in table.rows()] == [
        ["student", "name"], ["21", "<b>Ada</b> Lovelace"], ["bob", ""]
    ]  # fmt: skip
