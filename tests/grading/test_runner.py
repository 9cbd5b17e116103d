"""LocalRunner's worker processes: forked from the command, they keep nothing of it
that grading a student could read in its place (milliseconds; the grading itself is
tested through the command in test_grade.py and test_hostile_operating.py)."""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import backprop_helper  # noqa: F401  (the parent has the repository's helper)

from grader.course import HELPER_PACKAGE
from grader.grading import runner


def _what_the_worker_has() -> tuple[bool, list[str], str | None, int]:
    helper = sorted(n for n in sys.modules if n.partition(".")[0] == HELPER_PACKAGE)
    return "_pytest" in sys.modules, helper, runner._scratch, os.getppid()


def test_a_forked_worker_forgets_the_commands_helper_and_keeps_its_run(tmp_path):
    """The worker starts with the command's imports (it is forked: pytest's are
    there) but not its helper package (it imports the one of the course it is
    handed), keeps the run's scratch folder, and is the command's child."""
    assert HELPER_PACKAGE in sys.modules
    with ProcessPoolExecutor(
        1,
        mp_context=multiprocessing.get_context(runner.START_METHOD),
        initializer=runner.die_with_parent,
        initargs=(os.getpid(), str(tmp_path), None),
    ) as pool:
        forked, helper, scratch, parent = pool.submit(_what_the_worker_has).result()
    assert forked
    assert helper == []
    assert scratch == str(tmp_path)
    assert parent == os.getpid()
    assert HELPER_PACKAGE in sys.modules  # the command's own is untouched
