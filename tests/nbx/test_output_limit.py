"""grader.nbx.output_limit: output counted as it arrives, dropped past the limit."""

from __future__ import annotations

import pytest

from grader.inside import wire
from grader.nbx.output_limit import (
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


def test_the_graders_answers_are_kept_past_the_limit():
    limit = OutputLimit(100)
    limit.count(stream(200), 1)
    answer = {"msg_type": "display_data", "content": {"data": {wire.MIME: {}}}}
    assert limit.count(answer, 1) is Verdict.KEEP


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
