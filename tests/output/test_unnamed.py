"""grader.output.unnamed: wrong answers no catalogue names, grouped by the values the
checks compared (issue 18), counted in misconceptions.csv and shown in the report
with an answer cell, escaped and bounded."""

from __future__ import annotations

import json
import math

import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.course import COURSE
from grader.model import ClassResults, NotebookGrade, Status
from grader.model import TestResult as CellResult
from grader.nbx.findings import empty
from grader.output.html import OPEN_CELLS, report_html
from grader.output.misconceptions import class_misconceptions, misconceptions_csv
from grader.output.unnamed import (
    CELL_CHARS,
    CELL_LINES,
    RTOL,
    Answer,
    UnnamedGroup,
    agree,
    answer_cell,
    answer_of,
    cut_cell,
    element_keys,
    group_answers,
    groups_json,
    read_groups,
    same_values,
)
from grader.output.unnamed_section import marked_lines, unnamed_cards
from tests.support import read_csv

from .page import parse

BWD, OPT = "03_backward_propagation", "05_optimizers"
WHAT = "backward_propagation(X[5], y=1.386, random w, forward_dict)"
EXPECTED = {"dw3": 0.0104, "dw4": -0.0048, "dw8": 0.1832}
TIME = 2000  # ms per example: grouping a few hundred answers takes milliseconds


def findings(got: dict[str, float], expected=EXPECTED, what=WHAT, named="") -> dict:
    """What the grader records for a failing check: every compared number, the
    wrong ones found (named `named` when given)."""
    wrong = [key for key in expected if got[key] != expected[key]]
    return empty() | {
        "found": [[key, named, "different value"] for key in wrong],
        "compared": {key: [expected[key], got[key]] for key in expected},
        "what": what,
    }


def failing(student: str, got: dict, test="test_backward_lower", **kwargs):
    """One student's 03 with one failing test that compared `got`."""
    result = CellResult(test, 0.0, 2.0, f"{WHAT}: dw3: different value",
                        findings(got, **kwargs))  # fmt: skip
    return NotebookGrade(student, BWD, 4.0, 6.0, Status.OK, tests=[result])


def wrong(dw3: float) -> dict[str, float]:
    return EXPECTED | {"dw3": dw3}


def groups_of(*grades: NotebookGrade) -> list[UnnamedGroup]:
    rows = class_misconceptions(ClassResults(list(grades)), COURSE)
    return [row.group for row in rows if row.group]


def test_float_noise_merges_and_a_real_difference_does_not():
    """3 × dw3 three ways (the last digits differ) is one group; 4 × dw3 another;
    ids rank the groups by size within the test."""
    tripled = 0.0104 * 3
    grades = [
        failing("ada", wrong(tripled)),
        failing("bob", wrong(tripled * (1 + 3e-16))),
        failing("cy", wrong(0.0104 + 0.0104 + 0.0104)),
        failing("di", wrong(0.0104 * 4)),
    ]
    groups = groups_of(*grades)
    assert [(g.group_id, g.students) for g in groups] == [
        ("unnamed-test_backward_lower-1", ("ada", "bob", "cy")),
        ("unnamed-test_backward_lower-2", ("di",)),
    ]
    assert groups[0].wrong_values == [("dw3", 0.0104, tripled)]
    assert groups[0].label == "the same wrong dw3 (unnamed-test_backward_lower-1)"


def test_values_that_differ_in_the_fifth_digit_are_two_groups():
    groups = groups_of(failing("ada", wrong(0.031200)), failing("bob", wrong(0.031203)))
    assert [g.students for g in groups] == [("ada",), ("bob",)]


def test_groups_are_numbered_per_test_and_ordered_by_size():
    """The largest group first across tests; each test numbers its own."""
    grades = [failing(f"s{n}", wrong(0.05)) for n in range(3)] + [
        failing("t0", wrong(0.06), test="test_backward_upper"),
        failing("t1", wrong(0.06), test="test_backward_upper"),
        failing("u0", wrong(0.07)),
    ]
    assert [(g.group_id, g.count) for g in groups_of(*grades)] == [
        ("unnamed-test_backward_lower-1", 3),
        ("unnamed-test_backward_upper-1", 2),
        ("unnamed-test_backward_lower-2", 1),
    ]


def test_the_groups_do_not_depend_on_the_order_students_come_in():
    grades = [failing(f"s{n:02}", wrong(0.01 * (n % 4 + 2))) for n in range(20)]
    assert groups_of(*grades) == groups_of(*reversed(grades))


@pytest.mark.parametrize(
    ("case", "result"),
    [
        ("named", findings(wrong(-0.0104), named="sign-flipped")),
        ("no values", empty() | {"headline": "backward_propagation raised ValueError"}),
        ("a student's text", empty() | {"headline": "dw3: 0.0312 (same as bob)"}),
        ("a number that is text", findings(wrong(0.05)) | {
            "compared": {"dw3": [0.0104, "0.05"], "dw4": [-0.0048, -0.0048]}}),
        ("stock nbgrader", None),
    ],
)  # fmt: skip
def test_only_values_a_check_compared_form_a_group(case, result):
    """A named mistake, a failure without compared values (an exception, the
    student's own text), a value that is not a number, a test the grader did not
    run: none is grouped; each counts as before."""
    test = CellResult("test_backward_lower", 0.0, 2.0, "x: y", result)
    grades = [NotebookGrade(s, BWD, 4.0, 6.0, Status.OK, tests=[test])
              for s in ("ada", "bob")]  # fmt: skip
    rows = class_misconceptions(ClassResults(grades), COURSE)
    assert not any(row.group for row in rows)
    assert all(row.students == ("ada", "bob") for row in rows)


def test_a_notebook_that_did_not_finish_groups_nothing():
    grade = failing("ada", wrong(0.05))
    grade.status = Status.TIMEOUT
    assert groups_of(grade) == []


def test_not_finite_values_group_with_their_own_kind():
    """NaN with NaN, infinity with infinity, as the findings write them."""
    nan, inf = findings(wrong(0.0)), findings(wrong(0.0))
    nan["compared"]["dw3"][1], inf["compared"]["dw3"][1] = "nan", "inf"
    grades = [
        NotebookGrade(s, BWD, 4.0, 6.0, Status.OK,
                      tests=[CellResult("test_backward_lower", 0, 2, "m", f)])
        for s, f in (("ada", nan), ("bob", nan), ("cy", inf))
    ]  # fmt: skip
    assert [g.students for g in groups_of(*grades)] == [("ada", "bob"), ("cy",)]


def test_each_group_is_a_row_of_misconceptions_csv(tmp_path):
    grades = [failing(s, wrong(0.0312)) for s in ("ada", "bob", "cy")]
    grades.append(failing("di", wrong(0.0416)))
    path = tmp_path / "misconceptions.csv"
    path.write_text(misconceptions_csv(class_misconceptions(ClassResults(grades),
                                                            COURSE)))  # fmt: skip
    _, rows = read_csv(path)
    assert [(r["students"], r["student_ids"], r["mistake_id"]) for r in rows] == [
        ("3", "ada bob cy", "unnamed-test_backward_lower-1"),
        ("1", "di", "unnamed-test_backward_lower-2"),
    ]


def test_element_keys_name_each_element_of_a_finding():
    assert element_keys("w[0, 2, 5]") == ["w[0]", "w[2]", "w[5]"]
    assert element_keys("dw3") == ["dw3"]
    assert element_keys("sigmoid(3) (an int)") == ["sigmoid(3) (an int)"]
    assert element_keys("x[a]") == ["x[a]"]


def test_an_array_check_groups_by_its_elements():
    """adam_update's w: the finding names w[0, 3], the values are per element."""
    expected = {f"w[{i}]": 0.1 * i for i in range(9)}
    got = expected | {"w[0]": 0.5, "w[3]": -1.0}
    record = findings(got, expected=expected, what="adam_update, 10 steps")
    record["found"] = [["w[0, 3]", "", "different value"]]
    test = CellResult("test_adam", 0.0, 3.0, "m", record)
    grade = NotebookGrade("ada", OPT, 0.0, 9.0, Status.OK, tests=[test])
    answer = answer_of(grade, test)
    assert answer.wrong == ("w[0]", "w[3]")
    assert len(answer.compared) == 9


def test_the_groups_file_reads_back_as_written(tmp_path):
    groups = groups_of(failing("ada", wrong(float("inf"))), failing("b", wrong(0.2)))
    (tmp_path / "unnamed-mistakes.json").write_text(groups_json(groups))
    assert read_groups(tmp_path) == groups
    (tmp_path / "unnamed-mistakes.json").write_text(json.dumps([{"group_id": 1}]))
    with pytest.raises(ValueError, match="is not the grader's"):
        read_groups(tmp_path)


# ------------------------------------------------------------ hypothesis


def _answer(student: str, values: list[float]) -> Answer:
    keys = [f"w[{i}]" for i in range(len(values))]
    return Answer(
        student, OPT, "test_adam", "adam_update",
        tuple((key, 1.0, value) for key, value in zip(keys, values)), tuple(keys),
    )  # fmt: skip


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(
    lambda value: value == 0 or abs(value) > 1e-6
)
vectors = st.lists(finite, min_size=1, max_size=6)


@settings(max_examples=200, deadline=TIME)
@given(vectors, st.lists(st.floats(-1e-9, 1e-9), min_size=6, max_size=6))
def test_float_noise_never_splits_a_group(values, noise):
    """The same values with relative noise up to 1e-9 (far more than a different
    order of the same sums gives) are one group."""
    noisy = [value * (1 + n) for value, n in zip(values, noise)]
    groups = group_answers([_answer("a", values), _answer("b", noisy)])
    assert [g.students for g in groups] == [("a", "b")]


@settings(max_examples=200, deadline=TIME)
@given(vectors, st.integers(0, 5), st.floats(1e-3, 10.0), st.booleans())
def test_a_real_difference_is_never_merged(values, index, change, down):
    """One value a thousandth or more away (relatively) from the other answer's:
    two groups."""
    index %= len(values)
    other = list(values)
    base = other[index] if other[index] else 1.0
    other[index] = base * (1 - change if down else 1 + change)
    if other[index] == 0 or abs(other[index] - values[index]) < 1e-3 * abs(base):
        return
    groups = group_answers([_answer("a", values), _answer("b", other)])
    assert sorted(g.students for g in groups) == [("a",), ("b",)]


@settings(max_examples=100, deadline=TIME)
@given(st.lists(st.tuples(st.integers(0, 5), st.floats(-1e-9, 1e-9)), max_size=200))
def test_groups_are_a_partition_ranked_by_size_with_unique_ids(draws):
    """Answers drawn from six distinct value vectors, with noise: every student in
    exactly one group, the groups are the six vectors that occur, ids unique and
    numbered by size."""
    bases = [[1.0 + k, -0.5 * k, 3.0] for k in range(6)]
    answers = [
        _answer(f"s{n:03}", [v * (1 + noise) for v in bases[k]])
        for n, (k, noise) in enumerate(draws)
    ]
    groups = group_answers(answers)
    members = [s for g in groups for s in g.students]
    assert sorted(members) == sorted(a.student for a in answers)
    assert len(groups) == len({k for k, _ in draws})
    assert [g.count for g in groups] == sorted((g.count for g in groups), reverse=True)
    assert [g.group_id for g in groups] == [
        f"unnamed-test_adam-{n}" for n in range(1, len(groups) + 1)
    ]
    for group in groups:
        first = dict((k, v) for k, _, v in group.compared)
        for student in group.students:
            mine = next(a for a in answers if a.student == student)
            for key, _, value in mine.compared:
                assert math.isclose(value, first[key], rel_tol=RTOL)


def every_cluster(answers: list[Answer]) -> list[list[Answer]]:
    """same_values' rule without its index: each answer against every cluster."""
    clusters: list[list[Answer]] = []
    for answer in answers:
        row = [v for _, _, v in answer.compared]
        for cluster in clusters:
            first = [v for _, _, v in cluster[0].compared]
            if agree(np.array(first), np.array(row), 1e-300).all():
                cluster.append(answer)
                break
        else:
            clusters.append([answer])
    return clusters


palette = st.sampled_from([0.0, 1.0, -2.5, 3e-7, 1e5, math.inf, math.nan])
rows = st.lists(
    st.tuples(palette, palette, st.floats(-1e-8, 1e-8)), min_size=1, max_size=60
)


@settings(max_examples=200, deadline=TIME)
@given(rows)
def test_the_index_finds_what_comparing_with_every_cluster_finds(drawn):
    """same_values looks only at clusters near on one column: it gives the
    clusters a comparison with every cluster gives (near values, 0, NaN, inf)."""
    answers = [
        Answer(f"s{n:03}", OPT, "test_adam", "adam", (
            ("w[0]", 0.0, a * (1 + noise)), ("w[1]", 0.0, b), ("w[2]", 0.0, noise),
        ), ("w[0]",))
        for n, (a, b, noise) in enumerate(drawn)
    ]  # fmt: skip
    found = [[a.student for a in c] for c in same_values(answers)]
    assert found == [[a.student for a in c] for c in every_cluster(answers)]


# ------------------------------------------------------------ the report


def autograded(out, student: str, source: str) -> None:
    """OUT/autograded/<student>/backprop/03_...ipynb with `source` as the answer
    cell of backward_propagation."""
    notebook = COURSE.notebook(BWD).answer_key()
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "backward_propagation":
            cell.source = source
    path = out / "autograded" / student / COURSE.assignment / f"{BWD}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)


HOSTILE = (
    "def backward_propagation(x, y, w, f):\n    return '</pre><script>x()</script>'"
)


def test_the_answer_cell_is_the_tested_one_cut_to_its_bounds(tmp_path):
    (group,) = groups_of(failing("ada", wrong(0.05)))
    long = "\n".join(f"line_{n} = {'x' * n}" for n in range(500))
    autograded(tmp_path, "ada", long)
    cell = answer_cell(tmp_path, COURSE, group)
    assert cell.startswith("line_0 = \nline_1 = x\n")
    assert len(cell.splitlines()) <= CELL_LINES + 1 and len(cell) < CELL_CHARS + 80
    assert cell.endswith("more lines in the graded notebook]")
    assert answer_cell(tmp_path / "nowhere", COURSE, group) == ""
    assert cut_cell("short") == "short"


def test_the_report_shows_each_group_with_its_values_and_an_escaped_cell(tmp_path):
    grades = [failing(s, wrong(0.0312)) for s in ("ada", "bob", "cy")]
    grades.append(failing("di", wrong(0.0416)))
    autograded(tmp_path, "ada", HOSTILE)
    results = ClassResults(grades)
    rows = class_misconceptions(results, COURSE)
    cards = unnamed_cards([r.group for r in rows if r.group], tmp_path, COURSE)
    html = report_html(results, rows, unnamed=cards)
    assert "<script>" not in html
    section = parse(html).root.by_id("unnamed")
    first = section.by_id("unnamed-test_backward_lower-1")
    assert "3 students · 03_backward_propagation · test_backward_lower" in (
        first.words()
    )
    assert first.find_all("table")[0].rows() == [
        ["key", "expected", "got"],
        ["dw3", "0.0104", "0.0312"],
    ]
    (pre,) = first.find_all("pre")
    assert pre.text() == HOSTILE
    assert [mark.text() for mark in pre.find_all("mark")] == HOSTILE.splitlines()
    assert "mistake-entry OUT unnamed-test_backward_lower-1" in first.words()
    assert section.by_id("unnamed-test_backward_lower-2").find_all("pre") == []
    links = [a.attrs["href"] for a in parse(html).root.by_id("misconceptions")
             .find_all("a")]  # fmt: skip
    assert links == ["#unnamed-test_backward_lower-1", "#unnamed-test_backward_lower-2"]


def test_the_first_groups_show_their_answer_cell_the_rest_when_opened(tmp_path):
    """OPEN_CELLS cells open: the section stays a few screens long."""
    grades = [failing(f"s{n}", wrong(0.02 + 0.01 * n)) for n in range(OPEN_CELLS + 2)]
    results = ClassResults(grades)
    rows = class_misconceptions(results, COURSE)
    cards = unnamed_cards([r.group for r in rows if r.group], tmp_path, COURSE)
    section = parse(report_html(results, rows, unnamed=cards)).root.by_id("unnamed")
    cells = [d for d in section.find_all("details") if d.attrs.get("class") == "cell"]
    assert ["open" in d.attrs for d in cells] == [True] * OPEN_CELLS + [False] * 2


def test_the_lines_the_answer_key_lacks_are_marked():
    key = "def f(x):\n    y = 2 * x\n    return y"
    cell = "def f(x):\n\n    y = 3 * x\n      return y"
    assert marked_lines(cell, key) == [
        ("def f(x):", False), ("", False), ("    y = 3 * x", True),
        ("      return y", False),
    ]  # fmt: skip


def test_a_class_without_unnamed_wrong_answers_says_so():
    grade = failing("ada", wrong(-0.0104))
    grade.tests[0].findings = findings(wrong(-0.0104), named="sign-flipped")
    results = ClassResults([grade])
    html = report_html(results, class_misconceptions(results, COURSE))
    assert "Every failing test that compared values named a known mistake" in (
        parse(html).root.by_id("unnamed").words()
    )
