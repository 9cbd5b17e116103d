"""grader.nbx.findings: what a failing graded test found, as data the grader
records (never text read back), bounded."""

from __future__ import annotations

import json

import pytest
from backprop_helper.checks import CheckFailed, check_values

from grader.nbx.callbacks import CallbackBreach
from grader.nbx.findings import findings_of
from grader.nbx.kernel_values import StudentCodeError
from grader.nbx.remote import CallTimedOut


def failed_check(**kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as excinfo:
        check_values(what="backward", quiet=True, **kwargs)
    return excinfo.value


def test_a_checks_findings_and_every_number_it_compared():
    error = failed_check(
        got={"dw3": -1.0, "dw7": 5.0, "w": [1.0, float("nan")]},
        expected={"dw3": 1.0, "dw7": 1.0, "w": [1.0, 2.0]},
    )
    data = findings_of(error)
    assert data == {
        "found": [
            ["dw3", "sign-flipped", "the sign is flipped"],
            ["dw7", "", "different value (off by 4, relative 4)"],
            ["w[1]", "", "different value (off by nan)"],
        ],
        "compared": {
            "dw3": [1.0, -1.0], "dw7": [1.0, 5.0], "w[0]": [1.0, 1.0],
            "w[1]": [2.0, "nan"],
        },
        "what": "backward",
        "headline": "",
    }  # fmt: skip
    json.dumps(data, allow_nan=False)  # plain JSON: no NaN, no objects


@pytest.mark.parametrize(
    ("error", "headline"),
    [
        (StudentCodeError("f raised ValueError: exp: the sign is flipped", "f",
                          "ValueError"), "f raised ValueError"),
        (StudentCodeError("…", "f", "exp: the sign is flipped"),
         "f raised an exception"),
        (StudentCodeError("…", "f", "\x1b[2J" * 50), "f raised an exception"),
        (CallbackBreach("the grader's adam_update, called by your code, ran past"),
         "the grader's adam_update, called by your code, ran past"),
        (CallTimedOut("f ran past the 6 s cell limit"), ""),
        (AssertionError("a test's own assert"), ""),
    ],
)  # fmt: skip
def test_a_failure_no_check_explains_has_the_graders_words(error, headline):
    """The student's exception counts as "f raised ValueError": neither its text
    nor a class name of its own is the grader's words."""
    assert findings_of(error) == {
        "found": [], "compared": {}, "what": "", "headline": headline,
    }  # fmt: skip


def test_only_the_course_helpers_check_carries_findings():
    """An exception named CheckFailed from anywhere else (a student's, sent back
    as data it cannot be, or a test's own class) is not read for findings."""
    forged = type("CheckFailed", (AssertionError,), {})("x")
    forged.found = (("dw3", "sign-flipped", "the sign is flipped"),)
    assert findings_of(forged)["found"] == []


def test_findings_are_bounded():
    error = CheckFailed(
        "m",
        [("k" * 10_000, None, "r" * 10_000)] * 1000,
        {f"w[{i}]": (1.0, 2.0) for i in range(100_000)},
    )
    error.what = "w" * 100_000
    data = findings_of(error)
    assert len(data["found"]) == 200 and len(data["compared"]) == 5000
    assert len(data["what"]) < 600
    assert all(len(key) < 300 and len(reason) < 600 for key, _, reason in data["found"])
