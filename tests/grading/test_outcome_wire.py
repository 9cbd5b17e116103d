"""What a Dask worker sends, read as data and checked (grader.grading.outcome_wire).

An honest outcome crosses and comes back equal; each forgery a worker with the
cluster's key could send is refused (ForgedOutcome) with what is wrong: another
student, a notebook not handed in, points above the course's, files outside the
student's own folders of OUT, sizes over the bounds, objects that are not data.
Hypothesis feeds the reader random and adversarial data with a deadline. The
coordinator's process reads pickled values from Dask's comms as None.
"""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.course import COURSE, NOTEBOOKS
from grader.grading import outcome_wire
from grader.grading.outcome_wire import (
    ForgedOutcome,
    WorkerFailed,
    outcome_to_wire,
    read_outcome,
    read_report,
)
from grader.grading.outfolder import OutFolder, UnsafePath, check_student_path
from grader.grading.student import StudentJob, StudentOutcome
from grader.intake.collect import Submission
from grader.model import NotebookGrade, Status
from grader.model import TestResult as CellResult

SIG = NOTEBOOKS[0]
POINTS = COURSE.notebook(SIG).points
FIRST = next(iter(POINTS))


def job(student: str = "alice") -> StudentJob:
    return StudentJob(student, [Submission(student, SIG, f"{student}/x.ipynb", b"", 0)])


def honest(student: str = "alice") -> StudentOutcome:
    """An outcome as grade_student makes it for one notebook."""
    tests = [
        CellResult(name, points, points, "", None) for name, points in POINTS.items()
    ]
    findings = {"found": [["a", "", "b"]]}
    tests[0] = CellResult(FIRST, 0.0, POINTS[FIRST], "wrong", findings)
    grade = NotebookGrade(
        student, SIG, sum(POINTS.values()) - POINTS[FIRST], COURSE.max_score(SIG),
        Status.OK, "", f"{student}/x.ipynb", "", tests,
    )  # fmt: skip
    files = {
        f"autograded/{student}/backprop/{SIG}.ipynb": b"{}",
        f"feedback/{student}/{SIG}.html": b"<p>",
        f"feedback/{student}/index.html": b"<p>",
    }
    scores = {(SIG, name): (points, None, False) for name, points in POINTS.items()}
    scores[(NOTEBOOKS[1], next(iter(COURSE.notebook(NOTEBOOKS[1]).points)))] = (
        0.0,
        None,
        False,
    )
    return StudentOutcome(student, [grade], files, scores, "log", True)


def test_an_honest_outcome_crosses_unchanged():
    outcome = honest()
    assert read_outcome(outcome_to_wire(outcome), job(), COURSE) == outcome


def test_tuples_from_msgpack_read_as_lists():
    """msgpack gives tuples where it was sent lists: the same outcome."""
    data = outcome_to_wire(honest())
    data["grades"] = tuple(data["grades"])
    data["scores"] = tuple(tuple(row) for row in data["scores"])
    assert read_outcome(data, job(), COURSE) == honest()


def forged(change) -> dict:
    data = copy.deepcopy(outcome_to_wire(honest()))
    change(data)
    return data


def _set(path, value):
    def change(data):
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _add_file(name: str, content: object = b"x"):
    return lambda data: data["files"].__setitem__(name, content)


FORGERIES = {
    "another student": (_set(["student"], "bob"), "where alice was asked for"),
    "a grade row for another student": (
        _set(["grades", 0, "student"], "bob"),
        "a grade for 'bob'",
    ),
    "a score above the notebook's": (
        _set(["grades", 0, "score"], 1000.0),
        "outside 0 to",
    ),
    "a negative score": (_set(["grades", 0, "score"], -1.0), "outside 0 to"),
    "a score that is not a number": (
        _set(["grades", 0, "score"], float("nan")),
        "outside",
    ),
    "a test above its points": (
        _set(["grades", 0, "tests", 0, "points"], 99.0),
        "outside 0 to",
    ),
    "a notebook worth more": (
        _set(["grades", 0, "max_score"], 99.0),
        "is worth",
    ),
    "a notebook not handed in": (
        _set(["grades", 0, "notebook"], NOTEBOOKS[1]),
        "is worth|handed in",
    ),
    "a cell the notebook does not have": (
        _set(["grades", 0, "tests", 0, "test"], "made_up"),
        "not a graded cell",
    ),
    "a gradebook score above the cell's": (
        _set(["scores", 0, 2], 99.0),
        "outside 0 to",
    ),
    "points for a notebook not handed in": (
        _set(["scores", -1, 2], 1.0),
        "outside 0 to 0.0",
    ),
    "a parent folder": (_add_file("../escaped.txt"), "not a plain relative path"),
    "a folder above, inside": (
        _add_file("feedback/alice/../../x.html"),
        "not a plain relative path",
    ),
    "an absolute path": (_add_file("/tmp/abs.txt"), "not a plain relative path"),
    "another student's page": (
        _add_file("feedback/bob/index.html"),
        "not under alice's own folders",
    ),
    "OUT's own files": (_add_file("grades.csv"), "not under alice's own folders"),
    "the grader's bookkeeping": (
        _add_file(".grader/state/alice.json"),
        "not under alice's own folders",
    ),
    "a file that is not bytes": (
        _add_file("feedback/alice/a.html", "text"),
        "holds no bytes",
    ),
    "a status that is none": (_set(["grades", 0, "status"], "great"), "not a status"),
    "an unknown field": (_set(["extra"], 1), "fields"),
    "findings holding objects": (
        _set(["grades", 0, "tests", 0, "findings"], {"found": [b"bytes"]}),
        "hold bytes",
    ),
    "a flag that is not a boolean": (_set(["sandboxed"], "yes"), "true or false"),
}


@pytest.mark.parametrize("name", FORGERIES)
def test_a_forged_outcome_is_refused_saying_why(name):
    change, why = FORGERIES[name]
    with pytest.raises(ForgedOutcome, match=why):
        read_outcome(forged(change), job(), COURSE)


@pytest.mark.parametrize(
    "data",
    [None, b"\x80\x04pickle", "text", 3, [], ("a",), {"student": "alice"}],
    ids=["None", "bytes", "text", "number", "list", "tuple", "fields missing"],
)
def test_what_is_no_outcome_is_refused(data):
    with pytest.raises(ForgedOutcome):
        read_outcome(data, job(), COURSE)


def test_sizes_are_bounded(monkeypatch):
    """Over the bounds (set small here): too many files, too large a file or
    total, too long a text, findings too deep."""
    for bound, value in [("MAX_FILES", 2), ("MAX_FILE_BYTES", 1),
                         ("MAX_OUTCOME_BYTES", 4), ("MAX_LOG", 2)]:  # fmt: skip
        with monkeypatch.context() as patch:
            patch.setattr(outcome_wire, bound, value)
            with pytest.raises(ForgedOutcome):
                read_outcome(outcome_to_wire(honest()), job(), COURSE)
    deep: object = 1
    for _ in range(outcome_wire.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(ForgedOutcome, match="too large or too deep"):
        read_outcome(
            forged(_set(["grades", 0, "tests", 0, "findings"], {"x": deep})),
            job(),
            COURSE,
        )


def test_a_workers_own_failure_comes_back_as_its_text():
    with pytest.raises(WorkerFailed, match="ValueError: boom"):
        read_outcome({"error": "ValueError: boom"}, job(), COURSE)


def test_a_report_is_text_only():
    assert read_report({"course": "abc", "sandbox": ""}) == {
        "course": "abc",
        "sandbox": "",
    }
    for bad in [None, {"course": 1}, {"x": "y" * 10_000}, {1: "a"}]:
        with pytest.raises(ForgedOutcome):
            read_report(bad)


@pytest.mark.parametrize(
    "path",
    ["feedback/alice/index.html", "autograded/alice/backprop/01.ipynb",
     "submitted/alice/backprop/01_sigmoid.ipynb"],
)  # fmt: skip
def test_the_students_own_paths_are_accepted(path):
    check_student_path("alice", path)


@pytest.mark.parametrize(
    "path",
    ["", "feedback/alice", "feedback/alice/", "feedback//alice/x", "./feedback/alice/x",
     "feedback/alice/./x", "feedback/alice/x\0.html", "/feedback/alice/x",
     "feedback/alicex/y", "logs/alice/x", "feedback/ALICE/x"],
)  # fmt: skip
def test_other_paths_are_refused(path):
    with pytest.raises(UnsafePath):
        check_student_path("alice", path)


def test_install_refuses_a_path_outside_before_writing_anything(tmp_path):
    """OutFolder.install checks every path first: nothing of the outcome lands."""
    out = tmp_path / "out"
    outcome = honest()
    outcome.files["../escaped.txt"] = b"x"
    with pytest.raises(UnsafePath):
        OutFolder(out).install("alice", outcome)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (out / "feedback" / "alice").exists()


def test_installed_files_are_the_owners_only(tmp_path):
    OutFolder(tmp_path).install("alice", honest())
    modes = {p.stat().st_mode & 0o777 for p in tmp_path.rglob("*") if p.is_file()}
    assert modes == {0o600}


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=10) | st.integers(), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(deadline=2000, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(plain)
def test_any_data_is_read_or_refused_never_a_crash(data):
    """Random data: ForgedOutcome (or the worker's failure), nothing else."""
    try:
        read_outcome(data, job(), COURSE)
    except (ForgedOutcome, WorkerFailed):
        pass
    try:
        read_report(data)
    except ForgedOutcome:
        pass


@settings(deadline=2000, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(["grades", "files", "scores", "student", "log", "sandboxed"]),
    value=plain,
)
def test_an_honest_outcome_with_any_field_replaced_is_read_or_refused(path, value):
    """One field of an honest outcome replaced by anything: refused, or read
    within the bounds (points within the course's, the student's own files)."""
    data = forged(_set([path], value))
    try:
        outcome = read_outcome(data, job(), COURSE)
    except (ForgedOutcome, WorkerFailed):
        return
    assert outcome.student == "alice"
    for relative in outcome.files:
        check_student_path("alice", relative)
    for grade in outcome.grades:
        assert 0 <= grade.score <= COURSE.max_score(grade.notebook)


@settings(deadline=5000, max_examples=3)
@given(st.integers(min_value=1, max_value=3))
def test_huge_data_is_refused_within_the_deadline(scale):
    """A million files, a findings tree a hundred thousand deep, a megabyte key."""
    many = outcome_to_wire(honest())
    many["files"] = {f"f{i}": b"" for i in range(10**6)}
    with pytest.raises(ForgedOutcome):
        read_outcome(many, job(), COURSE)
    deep: object = 0
    for _ in range(100_000 * scale):
        deep = [deep]
    nested = outcome_to_wire(honest())
    nested["grades"][0]["tests"][0]["findings"] = {"x": deep}
    with pytest.raises(ForgedOutcome):
        read_outcome(nested, job(), COURSE)
    with pytest.raises(ForgedOutcome):
        read_report({"k" * 2**20: "v"})


class Exploit:
    """Unpickling it would write a file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_the_coordinator_reads_pickled_values_from_dask_as_none(tmp_path):
    """After refuse_pickles, Dask's protocol reads a pickled message part and any
    non-msgpack serialization as None: the exploit's file is never written."""
    import subprocess
    import sys

    marker = tmp_path / "unpickled"
    script = f"""
from distributed.protocol import serialize, deserialize, dumps, loads
from distributed.protocol.serialize import ToPickle
from grader.grading.outcome_wire import refuse_pickles
from tests.grading.test_outcome_wire import Exploit
frames = dumps({{"x": ToPickle(Exploit({str(marker)!r}))}})
header, parts = serialize(Exploit({str(marker)!r}), serializers=["pickle"])
refuse_pickles()
assert loads(frames) == {{"x": None}}, loads(frames)
assert deserialize(header, parts) is None
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "ok", done.stdout + done.stderr
    assert not marker.exists()
    assert pickle.loads(pickle.dumps(Exploit(str(marker)))) and marker.exists()
