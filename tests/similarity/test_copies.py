"""Copies are found and independent work is not: the planted class
(tests/similarity/copies_class.py), the course's own code subtracted, fragments
everyone writes weighing nothing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from grader.course import COURSE
from grader.demo.submissions import answer_cells
from grader.similarity.answers import course_boilerplate
from grader.similarity.copies import CopiesReport, find_copies
from grader.similarity.pairs import FLAG_AT
from tests.similarity.copies_class import (
    BWD,
    COPIES,
    FWD,
    SIG,
    SIGMOID,
    class_code,
    is_copy,
)

NO_BOILERPLATE = np.empty(0, dtype=np.uint64)


@pytest.fixture(scope="module")
def boilerplate() -> np.ndarray:
    return course_boilerplate(COURSE)


@pytest.fixture(scope="module")
def planted(boilerplate) -> CopiesReport:
    return find_copies(class_code(), boilerplate)


def similarities(report: CopiesReport) -> dict[tuple[str, str], float]:
    """Every pair of the class -> its similarity (0 for a pair not listed)."""
    students = sorted(class_code())
    listed = {(p.student_a, p.student_b): p.similarity for p in report.pairs}
    return {pair: listed.get(pair, 0.0) for pair in itertools.combinations(students, 2)}


def test_every_copy_pair_ranks_above_every_independent_pair(planted):
    scores = similarities(planted)
    copies = [score for pair, score in scores.items() if is_copy(*pair)]
    independent = [score for pair, score in scores.items() if not is_copy(*pair)]
    assert len(copies) == 7 and len(independent) == 84
    assert min(copies) > max(independent), (sorted(copies), max(independent))


def test_precision_and_recall_at_the_reports_threshold_are_one(planted):
    flagged = {(p.student_a, p.student_b) for p in planted.flagged}
    truth = {pair for pair in similarities(planted) if is_copy(*pair)}
    true_positives = len(flagged & truth)
    precision = true_positives / len(flagged)
    recall = true_positives / len(truth)
    assert (precision, recall) == (1.0, 1.0), flagged ^ truth
    assert all(p.flagged == (p.similarity >= FLAG_AT) for p in planted.pairs)


@pytest.mark.parametrize("copier", sorted(COPIES))
def test_each_disguise_alone_and_all_together_is_flagged(planted, copier):
    original = COPIES[copier][0]
    pair = tuple(sorted((original, copier)))
    found = {(p.student_a, p.student_b): p for p in planted.pairs}[pair]
    assert found.flagged
    assert {match.notebook for match in found.notebooks} == {FWD, BWD}
    assert all(match.regions for match in found.notebooks)


def test_the_pairs_come_most_similar_first_and_groups_join_flagged_pairs(planted):
    values = [pair.similarity for pair in planted.pairs]
    assert values == sorted(values, reverse=True)
    assert planted.groups[0] == ["cy", "cy-comprehended", "cy-disguised"]
    assert sorted(planted.groups[1:]) == [
        sorted((original, copier))
        for copier, (original, _) in sorted(COPIES.items())
        if original != "cy"
    ]
    assert planted.students == 14
    # Only the flagged pairs' students' code is kept, for their pages.
    assert set(planted.code) == {s for group in planted.groups for s in group}


def test_the_index_compares_far_fewer_pairs_than_all(planted):
    assert planted.compared < 91 / 3


# --- the course's own code is subtracted ---------------------------------------------


def handed_in_key(extra: str) -> dict[str, str]:
    """The answer key of 02 and 03 as it is, and a line of one's own in 01."""
    return {
        SIG: SIGMOID + extra,
        FWD: "\n\n".join(answer_cells(FWD).values()),
        BWD: "\n\n".join(answer_cells(BWD).values()),
    }


def template_only() -> dict[str, str]:
    """The released template's answer cells, untouched."""
    return {
        stem: "\n\n".join(
            cell.source
            for cell in COURSE.notebook(stem).released.cells
            if cell.metadata.get("nbgrader", {}).get("solution")
        )
        for stem in (SIG, FWD, BWD)
    }


def independent_class() -> dict[str, dict[str, str]]:
    """The planted class without its copiers."""
    return {s: code for s, code in class_code().items() if s not in COPIES}


def test_two_students_handing_in_the_answer_key_are_not_flagged(boilerplate):
    code = independent_class() | {
        "key-1": handed_in_key("\nx = 1\n"),
        "key-2": handed_in_key("\ny = 2\n"),
    }
    report = find_copies(code, boilerplate)
    assert not report.flagged
    # Without the subtraction, the answer key is what they share.
    unsubtracted = find_copies(code, NO_BOILERPLATE)
    assert [(p.student_a, p.student_b) for p in unsubtracted.flagged] == [
        ("key-1", "key-2")
    ]


def test_students_who_hand_in_the_template_have_no_code_to_compare(boilerplate):
    code = independent_class() | {
        "blank-1": template_only(),
        "blank-2": template_only(),
    }
    report = find_copies(code, boilerplate)
    assert not report.flagged
    assert report.students == len(independent_class())


def test_the_boilerplate_holds_every_kgram_of_the_template_and_the_key(boilerplate):
    from grader.similarity.winnowing import all_kgrams

    for stem in COURSE.notebooks:
        for answer in COURSE.notebook(stem).answers.values():
            assert np.isin(all_kgrams(answer), boilerplate).all()


# --- what everyone writes weighs nothing ---------------------------------------------

SIGMOIDS = [
    "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n",
    "def sigmoid(t):\n    return 1.0 / (1.0 + np.exp(-t))  # logistic\n",
    "def sigmoid(value):\n    return 1 / (1 + np.exp(-value))\n",
]
DERIVATIVES = [
    "def sigmoid_derivative(z):\n    return sigmoid(z) * (1 - sigmoid(z))\n",
    "def sigmoid_derivative(z):\n    s = sigmoid(z)\n    return s * (1 - s)\n",
    "def sigmoid_derivative(v):\n    out = sigmoid(v)\n    return out * (1.0 - out)\n",
]


def sigmoid_class(size: int) -> dict[str, dict[str, str]]:
    """`size` students who all write the sigmoid everyone writes (in one of three
    spellings) and one of three derivatives."""
    return {
        f"s{n:03d}": {SIG: SIGMOIDS[n % 3] + "\n\n" + DERIVATIVES[(n // 3) % 3]}
        for n in range(size)
    }


@pytest.mark.parametrize("size", [5, 30, 200])
def test_a_class_where_everyone_writes_the_same_sigmoid_flags_nobody(size):
    report = find_copies(sigmoid_class(size), NO_BOILERPLATE)
    assert report.flagged == []
    assert report.groups == []


def test_a_pair_is_flagged_by_what_is_rare_and_shared_beside_the_common():
    code = sigmoid_class(30)
    rare = class_code()["ada"][BWD]
    for student in ("s007", "s019"):
        code[student] = {**code[student], BWD: rare}
    report = find_copies(code, NO_BOILERPLATE)
    assert [(p.student_a, p.student_b) for p in report.flagged] == [("s007", "s019")]
