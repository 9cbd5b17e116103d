"""grader.model: one Status with its meanings; Limits with one name per setting."""

from __future__ import annotations

import dataclasses

import pytest

from grader import model
from grader.cli import build_parser
from grader.model import Limits, NotebookGrade, Status


def test_every_status_has_a_distinct_meaning_and_its_csv_word():
    assert len({status.meaning for status in Status}) == len(Status)
    assert all(status.meaning for status in Status)
    assert str(Status.WRONG_ASSIGNMENT) == "wrong_assignment"
    assert f"{Status.OK}" == "ok"


def test_a_grade_survives_its_round_trip_through_plain_data():
    grade = NotebookGrade(
        "alice", "01_sigmoid", 3.0, 4.0, Status.TIMEOUT, "slow", "a/b.ipynb",
        tests=[model.TestResult("test_sigmoid_values", 1.0, 2.0, "off by one")],
    )  # fmt: skip
    again = NotebookGrade.from_dict(grade.to_dict())
    assert again == grade
    assert again.status is Status.TIMEOUT


@pytest.mark.parametrize("name, default, text", Limits.settings())
def test_each_limit_is_one_flag_of_grade_with_its_help_and_default(name, default, text):
    """Limits.cell_timeout is --cell-timeout; its help and default come from the
    dataclass, so the command line cannot drift from it."""
    grade = build_parser()._subparsers._group_actions[0].choices["grade"]
    (action,) = [a for a in grade._actions if Limits.flag(name) in a.option_strings]
    assert action.dest == name
    assert action.default == default == getattr(Limits(), name)
    assert text in action.help


def test_the_command_line_gives_every_limit_to_the_grader():
    args = build_parser().parse_args(
        ["grade", "class", "--out", "out", "--file-mb", "7", "--cpu-seconds", "9"]
    )
    limits = Limits(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(Limits)}
    )
    assert (limits.file_mb, limits.cpu_seconds) == (7, 9)
