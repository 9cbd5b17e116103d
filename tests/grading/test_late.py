"""course.toml's [late] policy (grader/grading/late.py): what is late, what it
costs, as nbgrader's late_submission_penalty counts it (one per notebook, never
more than its score), and the settings it refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from grader.grading.late import LatePolicy, student_times
from grader.model import ClassResults, InputError, NotebookGrade, Status

DUE = dt.datetime(2026, 11, 20, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=1)))
MINUTE, DAY = dt.timedelta(minutes=1), dt.timedelta(days=1)


def policy(**late) -> LatePolicy:
    return LatePolicy.from_settings({"late": {"due": DUE, **late}})


@pytest.mark.parametrize(
    ("late", "after", "days", "penalty"),
    [
        ({"penalty": "none"}, MINUTE, 1, 0.0),
        ({"penalty": "zero"}, MINUTE, 1, 3.0),  # LateSubmissionPlugin's "zero"
        ({"penalty": "per_day", "percent_per_day": 10}, MINUTE, 1, 0.4),
        ({"penalty": "per_day", "percent_per_day": 10}, DAY, 1, 0.4),
        ({"penalty": "per_day", "percent_per_day": 10}, DAY + MINUTE, 2, 0.8),
        ({"penalty": "per_day", "percent_per_day": 50}, 5 * DAY, 5, 3.0),  # capped
    ],
)
def test_a_late_notebook_costs_what_the_policy_says(late, after, days, penalty):
    """3 of 4 points handed in `after` the due date: each started day counts."""
    found = policy(**late).lateness(DUE + after, 3.0, 4.0)
    assert found is not None
    assert (found.days, found.penalty) == (days, pytest.approx(penalty))


@pytest.mark.parametrize("when", [DUE - DAY, DUE])
def test_on_time_is_not_late(when):
    assert policy(penalty="zero").lateness(when, 3.0, 4.0) is None


def test_without_a_due_date_nothing_is_late():
    assert LatePolicy.from_settings({}).lateness(DUE + 9 * DAY, 3.0, 4.0) is None


def test_times_in_other_zones_compare_as_instants():
    """23:30 in UTC is 00:30 in UTC+1: 31 minutes late."""
    utc = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)
    assert policy(penalty="zero").lateness(utc, 3.0, 4.0) is not None


def test_apply_finds_each_late_notebook_of_each_student():
    rows = [
        NotebookGrade("ada", "01_sigmoid", 4.0, 4.0, Status.OK),
        NotebookGrade("ada", "02_forward_propagation", 2.0, 3.0, Status.OK),
        NotebookGrade("bob", "01_sigmoid", 4.0, 4.0, Status.OK),
    ]
    times = {
        ("ada", "01_sigmoid"): DUE - MINUTE,
        ("ada", "02_forward_propagation"): DUE + MINUTE,
        ("bob", "01_sigmoid"): DUE + 3 * DAY,
    }
    late = policy(penalty="zero").apply(ClassResults(rows), times)
    assert {key: value.penalty for key, value in late.items()} == {
        ("ada", "02_forward_propagation"): 2.0,
        ("bob", "01_sigmoid"): 4.0,
    }
    assert student_times(times) == {"ada": DUE + MINUTE, "bob": DUE + 3 * DAY}


@pytest.mark.parametrize(
    ("late", "says"),
    [
        ({"due": "2026-11-20"}, "date and time with its offset"),
        ({"due": dt.datetime(2026, 11, 20, 23, 59)}, "offset from UTC"),
        ({"penalty": "half"}, "penalty must be one of"),
        ({"penalty": "per_day"}, "needs percent_per_day"),
        ({"penalty": "per_day", "percent_per_day": 120}, "from 0 to 100"),
        ({"penalty": "per_day", "percent_per_day": True}, "from 0 to 100"),
        ({"grace": 5}, "unknown keys"),
    ],
)
def test_a_late_setting_the_grader_cannot_use_is_refused_by_name(late, says):
    with pytest.raises(InputError, match=r"course.toml \[late\]") as error:
        LatePolicy.from_settings({"late": late})
    assert says in str(error.value)
