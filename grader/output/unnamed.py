"""Wrong answers no catalogue names, grouped by the values they gave (issue 18).

A graded test that fails without naming a known mistake still tells the grader what
the student's function returned: every number its check compared, expected and got
(TestResult.findings, grader.nbx.findings). Students who made the same unnamed
mistake return the same wrong values, so their failures are grouped by those
values: within one test and one check (its title, `what`, and the keys it
compared), an answer joins the first group whose first answer it agrees with on
every value to RTOL (five significant digits; a value far below the check's
largest expected value, to RTOL of that one), so float noise (the same sums in
another order, a step in float32) merges and a real difference does not. Only
numbers form a group: a failure without compared values (an exception, a missing
key, a test's own assert) is counted by its headline as before, and no text of a
student's enters the grouping.

Each group is a row of misconceptions.csv (mistake_id `unnamed-<test>-<n>`, n
ranked by size within the test) and a card in the report's "Wrong answers no
catalogue names" section: the wrong values against the expected ones and the answer
cell of one of its students (answer_cell). OUT/unnamed-mistakes.json keeps each
group's values for `python -m grader mistake-entry OUT GROUP`
(grader.output.mistake_entry).
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

from ..course import Course, grade_id
from ..model import NotebookGrade, TestResult
from .stats import notebook_order

PREFIX = "unnamed"  # group ids: unnamed-<test grade_id>-<n>
RTOL = 1e-5  # values that agree to five significant digits are the same answer
# A value this small a share of the check's largest expected value agrees to RTOL
# of that one (a gradient of 1e-17 against one of 3e-17 is the same zero).
SCALE_SHARE = 1e-3
NOT_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}  # as findings
GROUPS_FILE = "unnamed-mistakes.json"  # in OUT
CELL_LINES = 60  # lines of the answer cell shown
CELL_CHARS = 4000  # characters of the answer cell shown
NOTEBOOK_BYTES = 64 * 2**20  # an autograded notebook larger than this is not read


@dataclass(frozen=True)
class Answer:
    """One student's failing test whose check compared values and named nothing."""

    student: str
    notebook: str
    test: str
    what: str  # the check's title
    compared: tuple[tuple[str, float, float], ...]  # (key, expected, got), in order
    wrong: tuple[str, ...]  # the keys the check found wrong ("w[3]"), in order

    @property
    def block(self) -> tuple:
        """What must be equal for two answers to be compared at all."""
        return (
            self.notebook, self.test, self.what, tuple(k for k, _, _ in self.compared)
        )  # fmt: skip


@dataclass(frozen=True)
class UnnamedGroup:
    """Students whose failing test gave the same wrong values: one unnamed mistake."""

    group_id: str  # unnamed-<test>-<n>
    notebook: str
    test: str
    what: str
    students: tuple[str, ...]  # sorted; the first one's answer stands for all
    compared: tuple[tuple[str, float, float], ...]  # the first student's
    wrong: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.students)

    @property
    def wrong_values(self) -> list[tuple[str, float, float]]:
        """(key, expected, got) of the values the check found wrong."""
        wrong = set(self.wrong)
        return [item for item in self.compared if item[0] in wrong]

    @property
    def label(self) -> str:
        """What misconceptions.csv and the report call it."""
        keys = dict.fromkeys(key.split("[", 1)[0] for key in self.wrong)
        return f"the same wrong {', '.join(keys) or 'values'} ({self.group_id})"

    def to_dict(self) -> dict:
        """The group as plain JSON data (GROUPS_FILE)."""
        return {
            "group_id": self.group_id,
            "notebook": self.notebook,
            "test": self.test,
            "what": self.what,
            "students": list(self.students),
            "compared": [[key, _plain(want), _plain(got)]
                         for key, want, got in self.compared],
            "wrong": list(self.wrong),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> UnnamedGroup:
        """A group read back from GROUPS_FILE (to_dict's data)."""
        return cls(
            str(data["group_id"]), str(data["notebook"]), str(data["test"]),
            str(data["what"]), tuple(map(str, data["students"])),
            tuple((str(key), _number(want), _number(got))
                  for key, want, got in data["compared"]),
            tuple(map(str, data["wrong"])),
        )  # fmt: skip


def _number(value: object) -> float:
    """A compared number as findings hold it (a float, or "nan"/"inf"/"-inf")."""
    if isinstance(value, str):
        return NOT_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def _plain(number: float) -> float | str:
    """A number as JSON takes it: not finite as its repr."""
    return number if math.isfinite(number) else repr(number)


def element_keys(key: str) -> list[str]:
    """The compared keys a finding's key stands for: "w[0, 2]" -> w[0], w[2]."""
    base, bracket, rest = key.partition("[")
    if not bracket or not rest.endswith("]"):
        return [key]
    indices = [part.strip() for part in rest[:-1].split(",")]
    if not all(part.isdigit() for part in indices):
        return [key]
    return [f"{base}[{index}]" for index in indices]


def answer_of(grade: NotebookGrade, test: TestResult) -> Answer | None:
    """The failing test as an Answer to group, or None: it named a mistake, or its
    check compared no numbers (findings hold numbers only as the grader's own
    check wrote them; anything else is not grouped)."""
    findings = test.findings
    if not isinstance(findings, dict):
        return None
    found, compared = findings.get("found") or [], findings.get("compared") or {}
    if any(mistake_id for _, mistake_id, _ in found) or not compared:
        return None
    try:
        values = tuple(
            (str(key), _number(want), _number(got))
            for key, (want, got) in compared.items()
        )
    except (TypeError, KeyError, ValueError):
        return None
    keys = {key for key, _, _ in values}
    wrong = [k for key, _, _ in found for k in element_keys(key) if k in keys]
    if not wrong:
        return None
    what = findings.get("what")
    return Answer(
        grade.student, grade.notebook, test.test, what if isinstance(what, str) else "",
        values, tuple(dict.fromkeys(wrong)),
    )  # fmt: skip


def group_answers(answers: Iterable[Answer]) -> list[UnnamedGroup]:
    """The groups of answers that gave the same values, the largest first (ties:
    course notebook order, test, n); each test's groups numbered 1, 2, ... by size
    (ties: the first student id). Students are taken in id order, so the groups do
    not depend on the order the answers come in."""
    blocks: dict[tuple, list[Answer]] = {}
    for answer in sorted(answers, key=lambda a: (a.student, a.block)):
        blocks.setdefault(answer.block, []).append(answer)
    per_test: dict[tuple[str, str], list[list[Answer]]] = {}
    for (notebook, test, *_), members in blocks.items():
        per_test.setdefault((notebook, test), []).extend(same_values(members))
    groups = []
    for (notebook, test), clusters in per_test.items():
        clusters.sort(key=lambda cluster: (-len(cluster), cluster[0].student))
        for n, cluster in enumerate(clusters, start=1):
            first = cluster[0]
            groups.append(
                UnnamedGroup(
                    f"{PREFIX}-{test}-{n}", notebook, test, first.what,
                    tuple(a.student for a in cluster), first.compared, first.wrong,
                )
            )  # fmt: skip
    return sorted(
        groups,
        key=lambda g: (-g.count, notebook_order(g.notebook), g.test, g.group_id),
    )


def same_values(answers: list[Answer]) -> list[list[Answer]]:
    """answers of one check, in clusters of the same values: each answer joins the
    first cluster whose first answer agrees with it on every value (agree), else
    starts one. Identical values are found by hashing; otherwise the candidates
    are the clusters whose first answer is close on one column (the one with the
    most distinct values, kept sorted), each compared on every value."""
    got = np.array([[value for _, _, value in a.compared] for a in answers], float)
    expected = np.array([want for _, want, _ in answers[0].compared], float)
    finite = np.abs(expected[np.isfinite(expected)])
    atol = RTOL * SCALE_SHARE * (float(finite.max()) if finite.size else 0.0)
    atol = max(atol, 1e-300)
    index = ColumnIndex(got, atol)
    firsts = np.empty_like(got)  # row c: the first answer of cluster c
    clusters: list[list[Answer]] = []
    seen: dict[bytes, int] = {}
    for answer, row in zip(answers, got):
        exact = row.tobytes()
        cluster = seen.get(exact)
        if cluster is None:
            candidates = index.near(row)
            if candidates.size:
                matches = agree(firsts[candidates], row, atol).all(axis=1)
                hits = candidates[matches]
                cluster = int(hits.min()) if hits.size else None
        if cluster is None:
            cluster = len(clusters)
            clusters.append([])
            firsts[cluster] = row
            index.add(row, cluster)
        seen[exact] = cluster
        clusters[cluster].append(answer)
    return clusters


class ColumnIndex:
    """The clusters' first answers by their value on one column, sorted: every
    cluster whose first answer can agree with a row is among those near it."""

    def __init__(self, got: np.ndarray, atol: float) -> None:
        distinct = [len(np.unique(got[:, j])) for j in range(got.shape[1])]
        self.column = int(np.argmax(distinct))
        self.atol = atol
        self.values: list[float] = []  # finite, sorted
        self.clusters: list[int] = []  # in the same order
        self.not_finite: dict[str, list[int]] = {}  # "nan", "inf", "-inf"

    def add(self, row: np.ndarray, cluster: int) -> None:
        value = float(row[self.column])
        if not math.isfinite(value):
            self.not_finite.setdefault(repr(value), []).append(cluster)
            return
        at = bisect.bisect_right(self.values, value)
        self.values.insert(at, value)
        self.clusters.insert(at, cluster)

    def near(self, row: np.ndarray) -> np.ndarray:
        """The clusters whose first answer is within agree's tolerance of the row
        on the column (a little more: the rest is checked on every value)."""
        value = float(row[self.column])
        if not math.isfinite(value):
            return np.array(self.not_finite.get(repr(value), []), dtype=int)
        # |a - b| <= RTOL max(|a|, |b|) + atol implies this bound around a
        width = 1.01 * (RTOL * abs(value) + self.atol) / (1 - RTOL)
        low = bisect.bisect_left(self.values, value - width)
        high = bisect.bisect_right(self.values, value + width)
        return np.array(self.clusters[low:high], dtype=int)


def agree(values: np.ndarray, other: np.ndarray, atol: float) -> np.ndarray:
    """Element by element: whether two values are the same answer's (RTOL of the
    larger plus atol; infinities and NaNs agree with themselves)."""
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(values - other)
        tolerance = RTOL * np.maximum(np.abs(values), np.abs(other)) + atol
        close = np.isfinite(gap) & (gap <= tolerance)  # inf is near nothing else
        return close | (values == other) | (np.isnan(values) & np.isnan(other))


def answer_cell(out: Path, course: Course, group: UnnamedGroup) -> str:
    """The answer cell the group's test grades, as its first student handed it in
    (OUT's autograded notebook), cut to CELL_LINES lines and CELL_CHARS characters;
    "" when it cannot be read. Student text: the report escapes it."""
    notebook = course.notebook(group.notebook)
    answer_id = notebook.answer_of_test.get(group.test)
    path = out / "autograded" / group.students[0] / course.assignment
    path = path / f"{group.notebook}.ipynb"
    try:
        if answer_id is None or path.stat().st_size > NOTEBOOK_BYTES:
            return ""
        handed_in = nbformat.read(path, as_version=4)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""
    for cell in handed_in.get("cells", []):
        if cell.get("cell_type") == "code" and _grade_id(cell) == answer_id:
            return cut_cell(str(cell.get("source", "")))
    return ""


def _grade_id(cell) -> str | None:
    try:
        return grade_id(cell)
    except AttributeError:  # metadata that is not a dict
        return None


def cut_cell(source: str) -> str:
    """A cell's source cut to CELL_LINES lines and CELL_CHARS characters, a line
    saying how much was left out."""
    lines = source.splitlines()
    shown = "\n".join(lines[:CELL_LINES])[:CELL_CHARS]
    if len(shown) < len("\n".join(lines)):
        left = len(lines) - len(shown.splitlines())
        more = f"{left:,} more lines" if left else "the rest of the line"
        shown += f"\n… [cut: {more} in the graded notebook]"
    return shown


def groups_json(groups: list[UnnamedGroup]) -> str:
    """GROUPS_FILE's text: every group's data, the largest first."""
    return json.dumps([group.to_dict() for group in groups], indent=1)


def read_groups(out: Path) -> list[UnnamedGroup]:
    """The groups of the last run's report in OUT (GROUPS_FILE).

    Raises FileNotFoundError when OUT holds none (not graded by this grader), and
    ValueError when the file is not the grader's data."""
    data = json.loads((out / GROUPS_FILE).read_text(encoding="utf-8"))
    try:
        return [UnnamedGroup.from_dict(item) for item in data]
    except (TypeError, KeyError, ValueError) as error:
        raise ValueError(f"{out / GROUPS_FILE} is not the grader's: {error}") from None
