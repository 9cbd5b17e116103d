"""The copies report's outputs: OUT/similarity.csv, the class report's "Copies"
section, and a page per flagged pair, OUT/similarity/pair-NNNN.html, with the two
students' answer code side by side and the matching regions marked alike.

similarity.csv is a contract: columns SIMILARITY_COLUMNS, the most similar pair
first, every pair the index compared whose similarity reached the floor; its text
cells made safe for a spreadsheet (grader.student_text, through tables.csv_text).
The pages are rendered by the class report's Jinja2 environment (autoescaped, and
every value made safe first): a student's code is shown, never run or trusted, and
cut to PAGE_LINES lines of LINE_CHARS characters per notebook. Nothing here
changes a grade; the section and the pages say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..files import write_atomically
from ..similarity.copies import CopiesReport
from ..similarity.pairs import NotebookMatch, Region, SimilarPair
from ..similarity.tokens import source_lines
from .html import ENVIRONMENT
from .stats import short_name
from .tables import csv_text

SIMILARITY_FILE = "similarity.csv"
SIMILARITY_COLUMNS = (
    "student_a", "student_b", "similarity", "flagged", "notebooks", "evidence",
)  # fmt: skip
PAGES_FOLDER = "similarity"
PAGE_TEMPLATE = "similarity_pair.html"
MAX_PAGES = 500  # flagged pairs with a page (the rest: in similarity.csv)
SHOWN_PAIRS = 200  # flagged pairs listed in the report's section
PAGE_LINES = 400  # lines of one student's code in one notebook on a page
LINE_CHARS = 300  # characters of one line on a page
EVIDENCE_REGIONS = 6  # matching regions named per notebook in the CSV
NEVER_GRADES = (
    "This is evidence for a person to read: it changes no grade. Two students' code "
    "is alike when they share fragments few others in the class wrote, with names, "
    "numbers, strings, comments and layout ignored and the course's own code "
    "(the template and the answer key) taken out."
)


def page_path(rank: int) -> str:
    """The page of the rank-th flagged pair (from 1), relative to OUT."""
    return f"{PAGES_FOLDER}/pair-{rank:04d}.html"


def paged(report: CopiesReport) -> dict[tuple[str, str], str]:
    """(a, b) -> its page, for the flagged pairs that get one."""
    return {
        (pair.student_a, pair.student_b): page_path(rank)
        for rank, pair in enumerate(report.flagged[:MAX_PAGES], 1)
    }


def _runs(runs: tuple[tuple[int, int], ...]) -> str:
    """Line runs as text: "3-7, 12"."""
    return ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in runs)


def match_text(match: NotebookMatch) -> str:
    """One notebook's evidence: its matching regions' lines in a and in b."""
    shown = [
        f"lines {_runs((region.lines_a,))} ~ {_runs(region.lines_b)}"
        for region in match.regions[:EVIDENCE_REGIONS]
    ]
    more = len(match.regions) - len(shown)
    return f"{match.notebook}: " + "; ".join(shown) + (f"; {more} more" if more else "")


def evidence_text(pair: SimilarPair, page: str) -> str:
    """The evidence column: the rare weight shared, each notebook's regions, the
    page."""
    parts = [f"shared rare fragments weigh {pair.shared:.1f}"]
    parts += [match_text(match) for match in pair.notebooks]
    if page:
        parts.append(f"page {page}")
    return " | ".join(parts)


def similarity_rows(report: CopiesReport) -> list[dict[str, object]]:
    """similarity.csv's rows, the most similar first."""
    pages = paged(report)
    return [
        {
            "student_a": pair.student_a,
            "student_b": pair.student_b,
            "similarity": f"{pair.similarity:.3f}",
            "flagged": "yes" if pair.flagged else "no",
            "notebooks": "; ".join(
                f"{match.notebook} {match.share:.2f}" for match in pair.notebooks
            ),
            "evidence": evidence_text(
                pair, pages.get((pair.student_a, pair.student_b), "")
            ),
        }
        for pair in report.pairs
    ]


def similarity_csv(report: CopiesReport) -> str:
    """similarity.csv (columns SIMILARITY_COLUMNS)."""
    return csv_text(SIMILARITY_COLUMNS, similarity_rows(report))


# --- the report's section -------------------------------------------------------------


@dataclass(frozen=True)
class PairRow:
    """One flagged pair in the report's section."""

    rank: int
    student_a: str
    student_b: str
    similarity: str
    notebooks: str  # short names, the most shared first: "03, 02"
    href: str  # its page, relative to OUT ("" when it has none)


@dataclass(frozen=True)
class CopiesSection:
    """What the report's "Copies" section shows."""

    rows: list[PairRow]  # the first SHOWN_PAIRS flagged pairs
    flagged: int  # flagged pairs in all
    groups: list[tuple[int, str]]  # students linked by flagged pairs: (size, ids)
    students: int
    compared: int
    listed: int  # pairs in similarity.csv
    flag_at: str
    floor: str
    never_grades: str = NEVER_GRADES


def copies_section(report: CopiesReport) -> CopiesSection:
    """The report's section on copies, as plain values."""
    pages = paged(report)
    flagged = report.flagged
    rows = [
        PairRow(
            rank,
            pair.student_a,
            pair.student_b,
            f"{pair.similarity:.2f}",
            ", ".join(short_name(match.notebook) for match in pair.notebooks),
            pages.get((pair.student_a, pair.student_b), ""),
        )
        for rank, pair in enumerate(flagged[:SHOWN_PAIRS], 1)
    ]
    return CopiesSection(
        rows, len(flagged), [(len(group), ", ".join(group)) for group in report.groups],
        report.students, report.compared,
        len(report.pairs), f"{report.flag_at:.2f}", f"{report.floor:.2f}",
    )  # fmt: skip


# --- a page per flagged pair ----------------------------------------------------------


@dataclass(frozen=True)
class CodeLine:
    """One line of a student's code on a pair's page."""

    number: int
    text: str
    region: int  # the matching region it belongs to, 0 for none


@dataclass(frozen=True)
class SideBySide:
    """One notebook on a pair's page: both students' code, regions marked."""

    notebook: str
    share: str
    regions: int
    lines_a: list[CodeLine]
    lines_b: list[CodeLine]
    cut_a: int  # lines left out at the end (PAGE_LINES)
    cut_b: int


def code_lines(code: str, marks: dict[int, int]) -> tuple[list[CodeLine], int]:
    """The first PAGE_LINES lines of `code`, each cut to LINE_CHARS, with their
    regions; and how many lines were left out."""
    lines = source_lines(code)
    shown = [
        CodeLine(
            number,
            text if len(text) <= LINE_CHARS else text[:LINE_CHARS] + " …",
            marks.get(number, 0),
        )
        for number, text in enumerate(lines[:PAGE_LINES], 1)
    ]
    return shown, max(0, len(lines) - PAGE_LINES)


def region_marks(regions: tuple[Region, ...]) -> tuple[dict[int, int], dict[int, int]]:
    """line -> region, in a's code and in b's (the first region to claim a line)."""
    marks_a: dict[int, int] = {}
    marks_b: dict[int, int] = {}
    for region in regions:
        first, last = region.lines_a
        for line in range(first, last + 1):
            marks_a.setdefault(line, region.number)
        for first, last in region.lines_b:
            for line in range(first, last + 1):
                marks_b.setdefault(line, region.number)
    return marks_a, marks_b


def pair_page(pair: SimilarPair, code: dict[str, dict[str, str]]) -> str:
    """The page of one flagged pair: each notebook they share code in, side by
    side."""
    notebooks = []
    for match in pair.notebooks:
        marks_a, marks_b = region_marks(match.regions)
        lines_a, cut_a = code_lines(
            code.get(pair.student_a, {}).get(match.notebook, ""), marks_a
        )
        lines_b, cut_b = code_lines(
            code.get(pair.student_b, {}).get(match.notebook, ""), marks_b
        )
        notebooks.append(
            SideBySide(
                match.notebook,
                f"{match.share:.2f}",
                len(match.regions),
                lines_a,
                lines_b,
                cut_a,
                cut_b,
            )
        )
    template = ENVIRONMENT.get_template(PAGE_TEMPLATE)
    return template.render(
        title=f"Alike: {pair.student_a} and {pair.student_b}",
        student_a=pair.student_a,
        student_b=pair.student_b,
        similarity=f"{pair.similarity:.2f}",
        shared=f"{pair.shared:.1f}",
        notebooks=notebooks,
        never_grades=NEVER_GRADES,
    )


def write_copies(report: CopiesReport, out: Path) -> None:
    """similarity.csv and the flagged pairs' pages in OUT (the pages of an earlier
    run removed first)."""
    folder = out / PAGES_FOLDER
    if folder.is_dir():
        for stale in folder.glob("pair-*.html"):
            stale.unlink()
    pages = paged(report)
    for pair in report.flagged[:MAX_PAGES]:
        page = pages[(pair.student_a, pair.student_b)]
        write_atomically(out / page, pair_page(pair, report.code))
    write_atomically(out / SIMILARITY_FILE, similarity_csv(report))
