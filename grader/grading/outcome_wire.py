"""What a Dask worker sends the coordinator, as plain data, and the check of it.

A worker holds a certificate of the course's cluster, but what it sends is still
data to check, never objects to adopt: a worker's outcome crosses as a dict of
strings, numbers, booleans, bytes and lists of them (msgpack, which Dask's comms
speak), and the coordinator's process unpickles nothing that comes over the
network (refuse_pickles). read_outcome accepts an outcome only for the student
the job was for, with each notebook handed in graded once, scores and points
within the course's, files only under that student's own folders of OUT
(relative, normalized) and sizes bounded; anything else raises ForgedOutcome,
and the runner refuses the worker that sent it.
"""

from __future__ import annotations

import importlib
import math

from ..course import Course
from ..model import NotebookGrade, Scores, Status, TestResult
from .outfolder import UnsafePath, check_student_path
from .student import StudentJob, StudentOutcome

MAX_FILES = 500  # files in one student's outcome (the course's make about 20)
MAX_FILE_BYTES = 256 * 2**20  # one file (an autograded notebook with its outputs)
MAX_OUTCOME_BYTES = 1024 * 2**20  # every file of one student together
MAX_TEXT = 2**20  # characters of one text field (details, messages, sources)
MAX_LOG = 32 * 2**20  # characters of nbgrader's log of one student
MAX_FINDINGS = 10_000  # values in one test's findings, nested at most ...
MAX_DEPTH = 8  # ... this deep
MAX_REPORT_TEXT = 4096  # characters of one part of a worker's report
MAX_REPORT_PARTS = 64


class ForgedOutcome(ValueError):
    """What a worker sent is not an outcome the coordinator may install (the
    message says what is wrong with it)."""


# --- on the worker --------------------------------------------------------------------


def outcome_to_wire(outcome: StudentOutcome) -> dict:
    """A student's outcome as plain data (what read_outcome reads back)."""
    return {
        "student": outcome.student,
        "grades": [grade.to_dict() for grade in outcome.grades],
        "files": dict(outcome.files),
        "scores": [
            [notebook, cell, *values]
            for (notebook, cell), values in outcome.scores.items()
        ],
        "log": outcome.log,
        "sandboxed": outcome.sandboxed,
    }


def error_to_wire(error: BaseException) -> dict:
    """A worker's failure on a student, as plain data."""
    return {"error": f"{type(error).__name__}: {error}"[:MAX_TEXT]}


# --- on the coordinator ---------------------------------------------------------------


def read_outcome(data: object, job: StudentJob, course: Course) -> StudentOutcome:
    """The outcome a worker sent for `job`, checked (ForgedOutcome otherwise).

    A worker's own failure ({"error": text}) comes back as WorkerFailed."""
    fields = _mapping(data, "the outcome")
    if set(fields) == {"error"}:
        raise WorkerFailed(_text(fields["error"], "the error", MAX_TEXT))
    expected = {"student", "grades", "files", "scores", "log", "sandboxed"}
    if set(fields) != expected:
        raise ForgedOutcome(
            f"the outcome's fields are {sorted(map(str, fields))}, not "
            f"{sorted(expected)}"
        )
    student = fields["student"]
    if student != job.student:
        raise ForgedOutcome(
            f"an outcome for {_shown(student)} where {job.student} was asked for"
        )
    handed_in = {item.notebook for item in job.submissions}
    grades = [
        _grade(row, job.student, course)
        for row in _sequence(fields["grades"], "the grades")
    ]
    graded = [grade.notebook for grade in grades]
    if sorted(graded) != sorted(handed_in):
        raise ForgedOutcome(
            f"grades for {sorted(graded)}, where {sorted(handed_in)} were handed in"
        )
    sandboxed = fields["sandboxed"]
    if not isinstance(sandboxed, bool):
        raise ForgedOutcome("'sandboxed' is not true or false")
    return StudentOutcome(
        job.student,
        grades,
        _files(fields["files"], job.student),
        _scores(fields["scores"], handed_in, course),
        _text(fields["log"], "the log", MAX_LOG),
        sandboxed,
    )


class WorkerFailed(RuntimeError):
    """The worker could not grade the student (its own words, as text)."""


def read_report(data: object) -> dict[str, str]:
    """A worker's answer to the check (worker_report): text parts only, bounded
    (ForgedOutcome otherwise)."""
    fields = _mapping(data, "the report")
    if len(fields) > MAX_REPORT_PARTS:
        raise ForgedOutcome(f"the report has {len(fields)} parts")
    return {
        _text(part, "a part's name", MAX_REPORT_TEXT): _text(
            value, f"the report's {_shown(part)}", MAX_REPORT_TEXT
        )
        for part, value in fields.items()
    }


def _grade(data: object, student: str, course: Course) -> NotebookGrade:
    """One notebook's grade, its points within the course's."""
    row = _mapping(data, "a grade")
    names = {
        "student", "notebook", "score", "max_score", "status", "detail", "source",
        "feedback", "tests",
    }  # fmt: skip
    if set(row) != names:
        raise ForgedOutcome(f"a grade's fields are {sorted(map(str, row))}")
    if row["student"] != student:
        raise ForgedOutcome(f"a grade for {_shown(row['student'])}, not {student}")
    stem = row["notebook"]
    if stem not in course.notebooks:
        raise ForgedOutcome(f"a grade for {_shown(stem)}, not a notebook of the course")
    points = course.notebook(stem).points
    max_score = course.max_score(stem)
    if row["max_score"] != max_score:
        raise ForgedOutcome(
            f"{stem} is worth {max_score}, not {_shown(row['max_score'])}"
        )
    score = _number(row["score"], f"{stem}'s score", max_score)
    try:
        status = Status(row["status"])
    except (ValueError, TypeError):
        raise ForgedOutcome(f"{_shown(row['status'])} is not a status") from None
    tests = []
    seen = set()
    for item in _sequence(row["tests"], f"{stem}'s tests"):
        test = _mapping(item, "a test")
        if set(test) != {"test", "points", "max_points", "message", "findings"}:
            raise ForgedOutcome(f"a test's fields are {sorted(map(str, test))}")
        name = test["test"]
        if name not in points or name in seen:
            raise ForgedOutcome(f"{_shown(name)} is not a graded cell of {stem}")
        seen.add(name)
        if test["max_points"] != points[name]:
            raise ForgedOutcome(f"{stem}'s {name} is worth {points[name]}")
        findings = test["findings"]
        if findings is not None:
            _mapping(findings, "the findings")
            _check_plain(findings, f"{name}'s findings")
        tests.append(
            TestResult(
                name,
                _number(test["points"], f"{name}'s points", points[name]),
                points[name],
                _text(test["message"], f"{name}'s message", MAX_TEXT),
                _thawed(findings),
            )
        )
    return NotebookGrade(
        student, stem, score, max_score, status,
        _text(row["detail"], "a detail", MAX_TEXT),
        _text(row["source"], "a source", MAX_TEXT),
        "",  # the feedback page is the coordinator's to find in OUT
        tests,
    )  # fmt: skip


def _files(data: object, student: str) -> dict[str, bytes]:
    """The files for OUT: the student's own, bounded."""
    files = _mapping(data, "the files")
    if len(files) > MAX_FILES:
        raise ForgedOutcome(f"{len(files)} files, more than {MAX_FILES}")
    checked, total = {}, 0
    for path, content in files.items():
        if not isinstance(path, str):
            raise ForgedOutcome(f"a file named {_shown(path)}")
        try:
            check_student_path(student, path)
        except UnsafePath as error:
            raise ForgedOutcome(str(error)) from None
        if not isinstance(content, bytes | bytearray | memoryview):
            raise ForgedOutcome(f"{_shown(path)} holds no bytes")
        size = len(content)
        if size > MAX_FILE_BYTES:
            raise ForgedOutcome(f"{_shown(path)} has {size} bytes")
        total += size
        if total > MAX_OUTCOME_BYTES:
            raise ForgedOutcome(f"the files hold more than {MAX_OUTCOME_BYTES} bytes")
        checked[path] = bytes(content)
    return checked


def _scores(data: object, handed_in: set[str], course: Course) -> Scores:
    """The gradebook's scores: cells of the notebooks handed in, points within
    each cell's."""
    scores: Scores = {}
    for item in _sequence(data, "the scores"):
        row = _sequence(item, "a score")
        if len(row) != 5:
            raise ForgedOutcome("a score is not (notebook, cell, auto, manual, flag)")
        stem, cell, auto, manual, flagged = row
        if stem not in course.notebooks:
            raise ForgedOutcome(f"a score for {_shown(stem)}, not a notebook")
        points = course.notebook(stem).points
        if cell not in points or (stem, cell) in scores:
            raise ForgedOutcome(f"a score for {_shown(cell)}, not a cell of {stem}")
        if not isinstance(flagged, bool):
            raise ForgedOutcome("a score's flag is not true or false")
        # A notebook not handed in is in the private gradebook too, worth nothing.
        most = points[cell] if stem in handed_in else 0.0
        scores[(stem, cell)] = (
            None if auto is None else _number(auto, f"{cell}'s score", most),
            None if manual is None else _number(manual, f"{cell}'s score", most),
            flagged,
        )
    return scores


def _mapping(data: object, what: str) -> dict:
    if not isinstance(data, dict):
        raise ForgedOutcome(f"{what} is {type(data).__name__}, not a mapping")
    return data


def _sequence(data: object, what: str) -> list | tuple:
    if not isinstance(data, list | tuple):
        raise ForgedOutcome(f"{what} is {type(data).__name__}, not a list")
    return data


def _text(data: object, what: str, limit: int) -> str:
    if not isinstance(data, str):
        raise ForgedOutcome(f"{what} is {type(data).__name__}, not text")
    if len(data) > limit:
        raise ForgedOutcome(f"{what} has {len(data)} characters, over {limit}")
    return data


def _number(data: object, what: str, most: float) -> float:
    """A score between 0 and `most`."""
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise ForgedOutcome(f"{what} is {type(data).__name__}, not a number")
    if not (math.isfinite(data) and 0 <= data <= most):
        raise ForgedOutcome(f"{what} is {_shown(data)}, outside 0 to {most}")
    return float(data)


def _check_plain(data: object, what: str) -> None:
    """JSON-plain data (dicts with text keys, lists, text, numbers, booleans,
    None), MAX_FINDINGS values at most, MAX_DEPTH deep at most."""
    budget = MAX_FINDINGS
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0 or depth > MAX_DEPTH:
            raise ForgedOutcome(f"{what} are too large or too deep")
        if isinstance(value, dict):
            for key, item in value.items():
                _text(key, f"a key of {what}", MAX_TEXT)
                stack.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _text(value, f"a text of {what}", MAX_TEXT)
        elif value is not None and not isinstance(value, int | float):
            raise ForgedOutcome(f"{what} hold {type(value).__name__}")


def _thawed(value):
    """msgpack's tuples back as lists (findings are JSON data)."""
    if isinstance(value, dict):
        return {key: _thawed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_thawed(item) for item in value]
    return value


def _shown(value: object) -> str:
    """A value a worker sent, short enough for a message."""
    return repr(value)[:80]


# --- the coordinator's process unpickles nothing from the network ---------------------

PLAIN_FAMILIES = ("msgpack", "error")  # Dask's serializations that are plain data


def _unread(*args, **kwargs) -> None:
    """Stands for a pickled value: never unpickled, read as None."""
    return None


def refuse_pickles() -> None:
    """In the coordinator's process: Dask's comms read msgpack only.

    The client's `deserializers` covers the data it fetches, not the scheduler's
    stream of reports (a task's error, pickled by the worker that raised it), nor
    the pickled sub-messages Dask's protocol unpickles whatever it is told. Here
    every pickled value and every serialization family but msgpack (and Dask's
    "error", plain text) reads as None instead: an honest worker sends plain data
    only, and None is not an outcome."""
    pickle = importlib.import_module("distributed.protocol.pickle")
    serialize = importlib.import_module("distributed.protocol.serialize")
    pickle.loads = _unread
    for name, (dumps, _, context) in list(serialize.families.items()):
        if name not in PLAIN_FAMILIES:
            serialize.families[name] = (dumps, _unread, context)
