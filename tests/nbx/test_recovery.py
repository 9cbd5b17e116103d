"""grader.nbx.recovery: after a stop or a death, what still runs, what a new kernel
runs again, and when the grader gives up."""

from __future__ import annotations

import pytest

from grader.nbx.recovery import Recovery
from tests.nbx.inprocess import tiny_model, tiny_notebook

# tiny_notebook(): setup, answer_f, a check, test_f, a plot, markdown
CELLS = tiny_notebook().cells


def test_the_graded_tests_need_the_setup_the_answers_and_themselves():
    recovery = Recovery(tiny_model(), 3)
    assert [recovery.needed(cell) for cell in CELLS] == [
        True, True, False, True, False, False,
    ]  # fmt: skip
    assert not any(Recovery(None, 3).needed(cell) for cell in CELLS)


def test_everything_runs_until_a_stop_then_only_what_the_tests_need():
    recovery = Recovery(tiny_model(), 3)
    assert all(recovery.runs(cell) for cell in CELLS)
    recovery.stopped("#3")
    recovery.stopped("test_f")  # the first stop is the one the notes name
    assert [recovery.runs(cell) for cell in CELLS] == [
        True, True, False, True, False, False,
    ]  # fmt: skip
    assert recovery.skip_line() == "skipped: cell #3 ran past its time limit"


def test_a_new_kernel_runs_the_setup_and_answers_before_again_but_not_a_dead_one():
    recovery = Recovery(tiny_model(), 3)
    assert recovery.replayed(CELLS, 0) == []
    assert recovery.replayed(CELLS, 5) == [0, 1]  # not the check, test or plot
    recovery.restart_after(1, "the kernel died in cell answer_f")
    assert recovery.replayed(CELLS, 5) == [0]
    assert recovery.skip_line() == "skipped: the kernel died in cell answer_f"


@pytest.mark.parametrize("restarts", [0, 1, 3])
def test_at_most_restarts_new_kernels_are_started(restarts):
    recovery = Recovery(tiny_model(), restarts)
    started = 0
    while recovery.can_restart:
        recovery.restart_after(2, "the kernel died")
        started += 1
    assert started == restarts


def test_a_cell_that_dies_again_when_run_again_is_skipped_from_then_on():
    recovery = Recovery(tiny_model(), 2)
    recovery.restart_after(2, "the kernel died in cell #3")
    assert recovery.replay_died(1)  # one new kernel left: try again without it
    assert recovery.replayed(CELLS, 5) == [0]
    assert not recovery.replay_died(0)  # none left: give up
