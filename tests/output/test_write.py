"""write_outputs: the files in OUT, each written whole or not at all (OUT/lms/ in
test_lms.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from grader import files
from grader.course import COURSE
from grader.model import ClassResults
from grader.output.write import write_outputs

from .sample import contract_class

OUTPUTS = (
    "grades.csv", "misconceptions.csv", "report.html", "tests.csv",
    "unnamed-mistakes.json",
)  # fmt: skip
GOLDEN = Path(__file__).parents[1] / "files" / "output"


def test_write_outputs_writes_the_golden_csv_files_and_the_report(tmp_path):
    """OUT gets grades.csv and tests.csv byte for byte, misconceptions.csv,
    unnamed-mistakes.json and report.html, nothing else (no LMS folder: no student
    came from an LMS); OUT is created when missing."""
    out = tmp_path / "out"
    write_outputs(contract_class(), out, COURSE)
    assert sorted(path.name for path in out.iterdir()) == list(OUTPUTS)
    for name in ("grades.csv", "tests.csv"):
        assert (out / name).read_bytes() == (GOLDEN / name).read_bytes()
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE")


def test_outputs_are_readable_by_their_owner_only(tmp_path):
    """They hold every student's grades: mode 0600."""
    write_outputs(ClassResults([]), tmp_path, COURSE)
    for name in OUTPUTS:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_outputs_replace_old_files_and_leave_no_temp_file(tmp_path, results):
    """Old outputs are replaced whole; only the five files are left in OUT."""
    for name in OUTPUTS:
        (tmp_path / name).write_text("old contents")
    write_outputs(results, tmp_path, COURSE)
    assert sorted(path.name for path in tmp_path.iterdir()) == list(OUTPUTS)
    for name in OUTPUTS:
        assert "old contents" not in (tmp_path / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("failing", OUTPUTS)
def test_a_failed_write_keeps_the_old_file_and_removes_the_temp_file(
    tmp_path, results, monkeypatch, failing
):
    """When the final rename of a file fails, that file stays as it was."""
    for name in OUTPUTS:
        (tmp_path / name).write_text("old contents")
    replace = os.replace

    def refuse(source, target):
        if Path(target).name == failing:
            raise OSError("disk full")
        replace(source, target)

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_outputs(results, tmp_path, COURSE)
    assert (tmp_path / failing).read_text() == "old contents"
    assert sorted(path.name for path in tmp_path.iterdir()) == list(OUTPUTS)
