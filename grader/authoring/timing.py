"""How long the answer key takes, cell by cell: what each cell's time limit is made of.

`python -m grader release` runs every notebook's answer key through the grader's own
executor (graded tests included, sandboxed where the sandbox works, kernels forked as
when grading) ROUNDS times and keeps the slowest time of each cell in the course's
TIMES_FILE. When grading, a cell may take CELL_LIMIT_FACTOR times that, and at least
CELL_LIMIT_FLOOR seconds (grader.course), so a hung call is stopped in seconds while
correct code that is several times slower than the answer key keeps its points.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from traitlets.config import Config

from ..course import COURSE, HELPER_PACKAGE, TIMES_FILE, Course
from ..files import write_atomically
from ..kernel.probe import sandbox_problem
from ..kernel.sandbox import StudentSandbox
from ..model import Limits
from ..nbx.execute import ResilientExecute
from ..nbx.status import read_record

ROUNDS = 3
MEASURE_LIMIT = 600  # seconds a cell of the answer key may take while measured


class AnswerKeyFailed(RuntimeError):
    """The answer key does not run cleanly: its times would mean nothing."""


def measure(course: Course = COURSE, rounds: int = ROUNDS) -> dict[str, dict]:
    """stem -> cell -> the slowest of `rounds` runs of the answer key, in seconds."""
    slowest: dict[str, dict[str, float]] = {stem: {} for stem in course.notebooks}
    with tempfile.TemporaryDirectory(prefix="grader-timing-") as scratch:
        cwd, status = Path(scratch) / "work", Path(scratch) / "status"
        shutil.copytree(
            course.release_dir / HELPER_PACKAGE,
            cwd / HELPER_PACKAGE,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        config = Config()
        config.ResilientExecute.trusted_source = str(course.root)
        config.ResilientExecute.course_cell_limits = False
        config.ResilientExecute.timeout = MEASURE_LIMIT
        config.ResilientExecute.status_dir = str(status)
        with StudentSandbox(Limits(), sandbox=sandbox_problem() is None):
            for _ in range(rounds):
                for stem in course.notebooks:
                    seconds = _run(course, stem, cwd, status, config)
                    for cell, taken in seconds.items():
                        slowest[stem][cell] = max(slowest[stem].get(cell, 0), taken)
    return slowest


def _run(course: Course, stem: str, cwd: Path, status: Path, config) -> dict:
    """Run one answer key; each cell's seconds."""
    notebook = course.notebook(stem).answer_key()
    resources = {"metadata": {"path": str(cwd)}, "unique_key": stem}
    ResilientExecute(config=config).preprocess(notebook, resources)
    record = read_record(status, stem)
    if record is None or record.status != "ok":
        detail = record.detail if record else "it did not run"
        raise AnswerKeyFailed(f"the answer key of {stem}: {detail}")
    return record.seconds


def write_times(course: Course = COURSE, rounds: int = ROUNDS) -> Path:
    """Measure the answer key and write TIMES_FILE; its path."""
    seconds = measure(course, rounds)
    record = {
        "about": "seconds the answer key needs per cell: python -m grader release",
        "source": course.source_hash(),
        "rounds": rounds,
        "seconds": {
            stem: {cell: round(taken, 4) for cell, taken in sorted(cells.items())}
            for stem, cells in seconds.items()
        },
    }
    path = course.source_dir / TIMES_FILE
    write_atomically(path, json.dumps(record, indent=1) + "\n")
    path.chmod(0o644)
    vars(course).pop("measured", None)  # read again on next use
    return path


def stale_times(course: Course = COURSE) -> list[str]:
    """Why the course's cell times do not belong to its source ([] when they do)."""
    measured = course.measured
    if not measured:
        return [f"missing: {course.source_dir / TIMES_FILE}"]
    if measured.get("source") != course.source_hash():
        return [f"{TIMES_FILE} was measured for another version of the source"]
    missing = [stem for stem in course.notebooks if not measured["seconds"].get(stem)]
    return [f"{TIMES_FILE} has no times for {stem}" for stem in missing]
