"""grader.nbx.status: how a notebook's run ended, kept as it happens and on disk."""

from __future__ import annotations

from grader.model import Status
from grader.nbx.status import RunRecord, RunRecorder, read_record, write_record


def test_a_run_without_events_ended_ok_with_its_cells_times():
    recorder = RunRecorder()
    recorder.time("setup", 0.5)
    assert recorder.record() == RunRecord(Status.OK, "", {"setup": 0.5})


def test_the_first_event_sets_the_status_and_each_sentence_is_said_once():
    recorder = RunRecorder()
    recorder.add(Status.TIMEOUT, "ran past the 6 s cell limit in #3")
    recorder.add(Status.KERNEL_DIED, "the kernel died in cell #5")
    recorder.add(Status.TIMEOUT, "ran past the 6 s cell limit in #3")
    record = recorder.record()
    assert record.status == Status.TIMEOUT
    assert record.detail == (
        "ran past the 6 s cell limit in #3; the kernel died in cell #5"
    )


def test_a_record_is_read_back_as_written(tmp_path):
    record = RunRecord(Status.MEMORY_LIMIT, "used more than", {"setup": 1.25})
    write_record(tmp_path / "status", "01_sigmoid", record)
    assert read_record(tmp_path / "status", "01_sigmoid") == record
    assert read_record(tmp_path / "status", "02_forward_propagation") is None
