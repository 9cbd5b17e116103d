"""grader.nbx.output_limit: output counted as it arrives, dropped past the limit."""

from __future__ import annotations

import pytest

from grader.inside import wire
from grader.nbx.output_limit import (
    ANSWER_BYTES,
    KEPT_ERROR,
    OutputLimit,
    Verdict,
    content_size,
    trimmed_error,
)


def stream(characters: int) -> dict:
    return {"msg_type": "stream", "content": {"text": "x" * characters}}


def test_content_size_counts_every_string():
    assert content_size({"text": "x" * 1000}) == 1004
    assert content_size({"data": {"image/png": "a" * 10}, "n": 3}) == 4 + 9 + 10 + 9


def test_output_is_kept_then_stopped_then_killed_at_twice_the_limit():
    limit = OutputLimit(100)
    assert limit.count(stream(60), 3) is Verdict.KEEP
    assert limit.count(stream(60), 3) is Verdict.STOP_CELL
    assert limit.hit and limit.cell == 3
    assert limit.count(stream(60), 4) is Verdict.DROP
    assert limit.count(stream(60), 4) is Verdict.KILL
    assert limit.count(stream(60), 4) is Verdict.DROP
    status = {"msg_type": "status", "content": {"execution_state": "idle"}}
    assert limit.count(status, 4) is Verdict.KEEP


def test_binary_buffers_count_too():
    message = {"msg_type": "comm_msg", "content": {}, "buffers": [b"x" * 200]}
    assert OutputLimit(100).count(message, 0) is Verdict.STOP_CELL


def test_no_limit_keeps_everything():
    limit = OutputLimit(0)
    assert limit.count(stream(10**7), 0) is Verdict.KEEP
    assert not limit.hit


def display(data) -> dict:
    return {"msg_type": "display_data", "content": {"data": data, "metadata": {}}}


def answer_to(request, size: int = 10) -> dict:
    return display({wire.MIME: {"id": request, "value": "x" * size}})


def test_the_awaited_answer_is_taken_past_the_limit_and_never_recorded():
    limit = OutputLimit(100)
    limit.count(stream(200), 1)
    limit.await_answer(7)
    assert limit.count(answer_to(7), 1) is Verdict.ANSWER
    assert limit.take_answer() == {"id": 7, "value": "x" * 10}
    assert limit.take_answer() is None  # taken once


def test_the_answer_is_taken_without_a_limit_too():
    limit = OutputLimit(0)
    limit.await_answer(1)
    assert limit.count(answer_to(1), 0) is Verdict.ANSWER
    assert limit.take_answer()["id"] == 1


@pytest.mark.parametrize(
    "message",
    [
        answer_to(6),  # another request's
        answer_to(7, size=ANSWER_BYTES),  # too large
        display({wire.MIME: {"id": 7}, "text/plain": "x"}) | {"buffers": [b"x"]},
        display({wire.MIME: [7]}),  # not a dict
        {"msg_type": "update_display_data", "content": answer_to(7)["content"]},
        {"msg_type": "execute_result", "content": answer_to(7)["content"]},
    ],
    ids=["other-id", "too-large", "buffers", "not-a-dict", "update", "result"],
)
def test_nothing_else_of_the_graders_type_passes(message):
    """Only the awaited answer, whole and within ANSWER_BYTES, is the grader's;
    the rest is output like any other (before: any display of the type, from any
    cell, was kept past the limit: 12 x 4 MB in a 5 MB limit, status ok)."""
    limit = OutputLimit(100)
    limit.count(stream(90), 1)
    limit.await_answer(7)
    assert limit.count(message, 1) is Verdict.STOP_CELL
    assert limit.take_answer() is None


def test_the_graders_type_in_a_cell_that_awaits_nothing_is_output():
    limit = OutputLimit(100)
    assert limit.count(answer_to(1, size=20), 2) is Verdict.KEEP
    assert limit.count(answer_to(1, size=20), 2) is Verdict.STOP_CELL
    assert limit.hit and limit.cell == 2


def test_content_size_of_deep_nesting_does_not_overflow():
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    assert content_size({"data": nested}) == 4


def test_the_cell_that_passed_the_limit_says_so():
    notice = OutputLimit(2 * 1024 * 1024).notice()
    assert notice.name == "stderr"
    assert notice.text == (
        "\n[grader] This notebook printed more than 2 MB of output (the limit): "
        "further output is dropped and this cell was stopped.\n"
    )


@pytest.mark.parametrize("size", [10, 10 * KEPT_ERROR])
def test_an_error_past_the_limit_is_cut(size):
    message = {
        "msg_type": "error",
        "content": {"ename": "E", "evalue": "v" * size, "traceback": ["t" * size]},
    }
    trimmed = trimmed_error(message)["content"]
    assert trimmed["evalue"] == "v" * min(size, KEPT_ERROR)
    assert trimmed["traceback"] == ["t" * min(size, KEPT_ERROR)]
    assert message["content"]["evalue"] == "v" * size  # the original is untouched
