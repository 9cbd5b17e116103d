"""Fixtures the grading suites share."""

from __future__ import annotations

import pytest

from tests.grading.test_hostile import ALONE, Run, grade, write_good


@pytest.fixture(scope="session")
def good_alone(tmp_path_factory) -> Run:
    """test_hostile's good student graded alone (as `alone`) by the command with the
    hostile suites' limits, once per session: the rows a good student gets in a
    class without hostile students, which test_hostile and test_hostile_inputs
    compare their good student's with. Tests read it, never change it."""
    root = tmp_path_factory.mktemp("good-alone")
    return grade(write_good(root / "class", ALONE), root / "out")
