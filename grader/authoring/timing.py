"""How long the answer key takes, cell by cell: what each cell's time limit is made of.

`python -m grader release` runs a notebook's answer key through the grader's own
executor (graded tests included, sandboxed where the sandbox works, kernels forked as
when grading) ROUNDS times and keeps the slowest time of each cell in the course's
TIMES_FILE. When grading, a cell may take CELL_LIMIT_FACTOR times that, and at least
CELL_LIMIT_FLOOR seconds (grader.course), so a hung call is stopped in seconds while
correct code that is several times slower than the answer key keeps its points.

The file stays still unless the code does: each notebook's entry names the
fingerprint of what its times depend on (the notebook and the helper package), only
notebooks whose fingerprint changed are timed again, and a time within NOISE times
the one written before is noise, so the one before is kept (new times are written
to two significant digits).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from traitlets.config import Config

from ..course import HELPER_PACKAGE, TIMES_FILE, Course
from ..files import write_atomically
from ..kernel.probe import sandbox_problem
from ..kernel.sandbox import StudentSandbox
from ..model import Limits
from ..nbx.execute import ResilientExecute
from ..nbx.status import read_record

ROUNDS = 3
MEASURE_LIMIT = 600  # seconds a cell of the answer key may take while measured
NOISE = 1.5  # a new time within this factor of the one before is noise


class AnswerKeyFailed(RuntimeError):
    """The answer key does not run cleanly: its times would mean nothing."""


def measure(
    course: Course, stems: list[str], rounds: int = ROUNDS
) -> dict[str, dict[str, float]]:
    """stem -> cell -> the slowest of `rounds` runs of the answer key, in seconds,
    for each notebook in `stems`."""
    slowest: dict[str, dict[str, float]] = {stem: {} for stem in stems}
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
                for stem in stems:
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


def write_times(course: Course, rounds: int = ROUNDS, every: bool = False) -> Path:
    """Time the answer key of each notebook whose code changed since it was timed
    (of every notebook with `every`) and write TIMES_FILE; its path."""
    before = course.measured.get("notebooks", {})
    fingerprints = {stem: course.timing_fingerprint(stem) for stem in course.notebooks}
    stale = [
        stem
        for stem in course.notebooks
        if every or before.get(stem, {}).get("source") != fingerprints[stem]
    ]
    timed = measure(course, stale, rounds) if stale else {}
    notebooks = {}
    for stem in course.notebooks:
        if stem not in timed:
            notebooks[stem] = before[stem]
            continue
        earlier = before.get(stem, {}).get("seconds", {})
        notebooks[stem] = {
            "source": fingerprints[stem],
            "seconds": {
                cell: kept(earlier.get(cell), taken)
                for cell, taken in sorted(timed[stem].items())
            },
        }
    record = {
        "about": "seconds the answer key needs per cell: python -m grader release",
        "rounds": rounds,
        "notebooks": notebooks,
    }
    path = course.source_dir / TIMES_FILE
    write_atomically(path, json.dumps(record, indent=1) + "\n")
    path.chmod(0o644)
    vars(course).pop("measured", None)  # read again on next use
    return path


def kept(before: float | None, taken: float) -> float:
    """The time to write for a cell: the one before when the new one is within
    NOISE times of it, else the new one to two significant digits."""
    if before and before / NOISE <= taken <= before * NOISE:
        return before
    return float(f"{taken:.2g}")


def stale_times(course: Course) -> list[str]:
    """Why the course's cell times do not belong to its code ([] when they do)."""
    measured = course.measured
    if not measured:
        return [f"missing: {course.source_dir / TIMES_FILE}"]
    notebooks = measured.get("notebooks", {})
    stale = []
    for stem in course.notebooks:
        entry = notebooks.get(stem, {})
        if not entry.get("seconds"):
            stale.append(f"{TIMES_FILE} has no times for {stem}")
        elif entry.get("source") != course.timing_fingerprint(stem):
            stale.append(f"{TIMES_FILE}: {stem} was timed for another version of it")
    return stale
