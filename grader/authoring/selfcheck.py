"""Before a release: the instructor's answers get full marks, an untouched release 0."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..course import Course
from . import stock
from .prepared import make_course

ANSWERS, UNTOUCHED = "instructor-answers", "untouched-release"


@dataclass
class SelfCheck:
    """Scores of both sample students: student -> notebook -> (score, max_score)."""

    scores: dict[str, dict[str, tuple[float, float]]]

    @property
    def ok(self) -> bool:
        """True when the answers earn every point and the untouched release none."""
        answers, untouched = self.scores[ANSWERS], self.scores[UNTOUCHED]
        return all(
            answers[stem][0] == answers[stem][1] > 0 and untouched[stem][0] == 0
            for stem in answers
        )

    def table(self) -> str:
        """The scores as an aligned text table, one row per notebook."""
        rows = [("notebook", ANSWERS, UNTOUCHED)]
        for stem in self.scores[ANSWERS]:
            cells = [
                f"{s[0]:g} / {s[1]:g}"
                for s in (self.scores[ANSWERS][stem], self.scores[UNTOUCHED][stem])
            ]
            rows.append((stem, *cells))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
            for row in rows
        )


def run_selfcheck(course: Course, workdir: Path) -> SelfCheck:
    """Grade both sample students with stock nbgrader in a course under workdir:
    the course's source (the answers) and its committed release."""
    if workdir.exists():
        shutil.rmtree(workdir)
    root = make_course(workdir, course)
    folders = ((ANSWERS, course.source_dir), (UNTOUCHED, course.release_dir))
    for student, folder in folders:
        notebooks = {
            stem: nbformat.read(folder / f"{stem}.ipynb", as_version=4)
            for stem in course.notebooks
        }
        stock.submit(root, student, notebooks)
    stock.autograde(root)
    scores = {}
    for student in (ANSWERS, UNTOUCHED):
        found = stock.results(root, student)
        scores[student] = {
            stem: (found[stem].score, found[stem].max_score)
            if stem in found
            else (0.0, 0.0)
            for stem in course.notebooks
        }
    return SelfCheck(scores)
