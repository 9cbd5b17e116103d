"""The coordinator's own logic, in milliseconds: who is graded, what is recorded.

A fake runner stands where the students are graded (as otter's tests mock its
container launcher): it answers each job in this process with an outcome or an
error, so that resuming, retrying a grader_error, giving up on the same failure
twice, an interrupt mid-run, batching and students graded without their sandbox
are tested without a kernel. The gradebook is a spy of the batches written; the
real ones are graded in tests/grading/test_grade.py (and test_database.py).
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from grader.course import ASSIGNMENT, CONFIG_NAME, COURSE, NOTEBOOKS, Course
from grader.grading import grade
from grader.grading.grade import SAME_FAILURE, Coordinator, grade_class
from grader.grading.outfolder import OutFolder
from grader.grading.student import StudentJob, StudentOutcome, log_path
from grader.intake.collect import Collection, Submission
from grader.model import (
    Identity,
    InputError,
    Limits,
    NotebookGrade,
    RefusedWorker,
    RunReport,
    RunWarning,
    Status,
)
from grader.model import TestResult as CellResult
from tests.support import course_copy, read_csv

SIG, FWD = NOTEBOOKS[:2]
STUDENTS = ("alice", "bob", "carol")


class FakeRunner:
    """Grades each job with `answer(job)`, an outcome or an error, in order."""

    def __init__(
        self,
        answer: Callable[[StudentJob], StudentOutcome | BaseException],
        warnings: tuple[RunWarning, ...] = (),
    ) -> None:
        self.answer = answer
        self.warnings = warnings
        self.given: list[str] = []
        self.closed = False

    def run(self, jobs, warn):
        try:
            for warning in self.warnings:
                warn(warning)
            for job in jobs:
                self.given.append(job.student)
                answer = self.answer(job)
                if isinstance(answer, BaseException):
                    yield job, None, answer
                else:
                    yield job, answer, None
        finally:
            self.closed = True


class GradebookSpy:
    """Stands in for ClassGradebook: the students of each batch written."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.identities: dict = {}

    def write(self, batch, identities=None) -> None:
        self.batches.append(sorted(batch))
        self.identities |= {s: identities[s] for s in batch if s in (identities or {})}


def graded(job: StudentJob) -> StudentOutcome:
    """Full marks for each notebook handed in, a file each for OUT."""
    rows = [
        NotebookGrade(job.student, item.notebook, 4.0, 4.0, Status.OK)
        for item in job.submissions
    ]
    files = {
        f"autograded/{job.student}/backprop/{item.notebook}.ipynb": item.content
        for item in job.submissions
    }
    scores = {(item.notebook, "test"): (4.0, None, False) for item in job.submissions}
    return StudentOutcome(job.student, rows, files, scores, "graded", job.sandbox)


def failing(*students: str, error: str = "boom") -> Callable:
    """graded(), but a RuntimeError(error) for these students."""
    return lambda job: RuntimeError(error) if job.student in students else graded(job)


def submissions(*students: str, version: bytes = b"v1") -> list[Submission]:
    """Each student's 01 notebook (its bytes: the student and `version`)."""
    return [
        Submission(
            student, SIG, f"{student}/{SIG}.ipynb", student.encode() + version, 0
        )
        for student in students
    ]


def run(
    out: Path,
    runner: FakeRunner,
    handed_in: list[Submission],
    *,
    bundle_fingerprint: str = "course-1",
    sandboxed: bool = False,
    gradebook: GradebookSpy | None = None,
    **options,
) -> RunReport:
    """One run of the coordinator in OUT."""
    coordinator = Coordinator(
        OutFolder(out), Collection(handed_in, []), COURSE, bundle_fingerprint,
        Limits(), sandboxed=sandboxed, fallback=sandboxed,
    )  # fmt: skip
    return coordinator.run(runner, gradebook or GradebookSpy(), **options)


def rows(report: RunReport, notebook: str = SIG) -> dict[str, NotebookGrade]:
    return {g.student: g for g in report.results.grades if g.notebook == notebook}


def test_every_student_is_graded_installed_and_recorded(tmp_path):
    """Each student once to the runner; their files in OUT; one row per notebook
    of the course (the rest missing); the gradebook has them; the runner closed."""
    runner, gradebook = FakeRunner(graded), GradebookSpy()
    report = run(tmp_path, runner, submissions(*STUDENTS), gradebook=gradebook)
    assert runner.given == list(STUDENTS)
    assert runner.closed
    assert report.results.students == list(STUDENTS)
    assert len(report.results.grades) == len(STUDENTS) * len(NOTEBOOKS)
    assert {g.status for g in rows(report).values()} == {Status.OK}
    assert {g.status for g in rows(report, FWD).values()} == {Status.MISSING}
    assert sorted(chain(*gradebook.batches)) == list(STUDENTS)
    for student in STUDENTS:
        installed = tmp_path / f"autograded/{student}/backprop/{SIG}.ipynb"
        assert installed.read_bytes() == student.encode() + b"v1"
        assert (tmp_path / log_path(student)).read_text() == "graded"


def test_what_the_lms_knows_reaches_the_gradebook_and_the_results(tmp_path):
    """Names, ids and times of submission go to the gradebook with the scores,
    and into the results (each notebook's time, the student's latest)."""
    when = datetime(2024, 5, 17, 10, tzinfo=UTC)
    handed_in = [
        replace(item, lms="moodle", lms_id="21", name="Ada Lovelace",
                submitted_at=when)
        for item in submissions("21")
    ] + submissions("alice")  # fmt: skip
    gradebook = GradebookSpy()
    report = run(tmp_path, FakeRunner(graded), handed_in, gradebook=gradebook)
    identity = Identity("moodle", "21", "Ada Lovelace", when)
    assert gradebook.identities == {"21": identity}
    assert report.results.identities == {"21": identity}
    assert report.results.submitted_at == {("21", SIG): when}


def test_a_rerun_grades_only_the_students_whose_files_changed(tmp_path):
    run(tmp_path, FakeRunner(graded), submissions(*STUDENTS))
    changed = [*submissions("alice", "carol"), *submissions("bob", version=b"v2")]
    runner = FakeRunner(graded)
    report = run(tmp_path, runner, changed)
    assert runner.given == ["bob"]
    assert report.results.students == list(STUDENTS)
    assert {g.status for g in rows(report).values()} == {Status.OK}


def test_another_course_grades_everyone_again(tmp_path):
    run(tmp_path, FakeRunner(graded), submissions(*STUDENTS))
    runner = FakeRunner(graded)
    run(tmp_path, runner, submissions(*STUDENTS), bundle_fingerprint="course-2")
    assert runner.given == list(STUDENTS)


def test_a_student_the_grader_failed_on_is_a_grader_error_then_retried(tmp_path):
    """The runner's error: a grader_error row per notebook handed in, saying why;
    the next run grades that student again (only), and the log keeps the cause of
    the earlier attempt."""
    first = run(tmp_path, FakeRunner(failing("bob")), submissions(*STUDENTS))
    bob = rows(first)["bob"]
    assert (bob.status, bob.score, bob.max_score) == (Status.GRADER_ERROR, 0, 4)
    assert bob.detail == "the grader failed on this student: RuntimeError: boom"
    assert "RuntimeError: boom" in (tmp_path / log_path("bob")).read_text()
    runner = FakeRunner(graded)
    second = run(tmp_path, runner, submissions(*STUDENTS))
    assert runner.given == ["bob"]
    assert rows(second)["bob"].status == Status.OK
    log = (tmp_path / log_path("bob")).read_text()
    assert log.startswith("graded\n\n=== earlier attempts failed (grader_error)")
    assert f"  {SIG}: the grader failed on this student: RuntimeError: boom" in log


def test_the_same_failure_twice_is_not_tried_a_third_time(tmp_path):
    """Failed twice the same way: the row says so and a third run leaves the
    student alone; a different failure the second time is tried again."""
    for _ in range(2):
        report = run(tmp_path, FakeRunner(failing("bob")), submissions(*STUDENTS))
    assert rows(report)["bob"].detail.endswith(f" ({SAME_FAILURE})")
    runner = FakeRunner(graded)
    third = run(tmp_path, runner, submissions(*STUDENTS))
    assert runner.given == []
    assert rows(third)["bob"].status == Status.GRADER_ERROR

    other = tmp_path / "other"
    run(other, FakeRunner(failing("bob", error="one")), submissions(*STUDENTS))
    run(other, FakeRunner(failing("bob", error="two")), submissions(*STUDENTS))
    runner = FakeRunner(graded)
    run(other, runner, submissions(*STUDENTS))
    assert runner.given == ["bob"]


def test_an_interrupt_keeps_the_students_recorded_so_far(tmp_path):
    """A KeyboardInterrupt after the first student is recorded: the runner is
    closed at once, that student is in the gradebook and saved, and the next run
    grades the others only."""
    gradebook = GradebookSpy()

    def interrupt(student: str) -> None:
        raise KeyboardInterrupt

    runner = FakeRunner(graded)
    with pytest.raises(KeyboardInterrupt) as interrupted:
        run(
            tmp_path, runner, submissions(*STUDENTS), gradebook=gradebook,
            on_student_done=interrupt,
        )  # fmt: skip
    # Closed by the coordinator, not by the garbage collector: the traceback (kept
    # here, as while a caller reports it) still holds the run's frame.
    assert interrupted.traceback and runner.closed
    assert runner.given == ["alice"]
    assert gradebook.batches == [["alice"]]
    rerun = FakeRunner(graded)
    run(tmp_path, rerun, submissions(*STUDENTS))
    assert rerun.given == ["bob", "carol"]


@pytest.mark.parametrize(
    ("students", "seconds", "batches"),
    [(3, 3600.0, [3, 3, 1]), (200, 3600.0, [7]), (3, 0.0, [1] * 7)],
)
def test_students_are_recorded_in_batches(
    tmp_path, monkeypatch, students, seconds, batches
):
    """At most BATCH_STUDENTS students per gradebook transaction, and one at least
    every BATCH_SECONDS; the last batch when the run ends."""
    monkeypatch.setattr(grade, "BATCH_STUDENTS", students)
    monkeypatch.setattr(grade, "BATCH_SECONDS", seconds)
    gradebook = GradebookSpy()
    names = [f"s{n}" for n in range(7)]
    run(tmp_path, FakeRunner(graded), submissions(*names), gradebook=gradebook)
    assert [len(batch) for batch in gradebook.batches] == batches
    assert list(chain(*gradebook.batches)) == names


def test_a_student_graded_without_the_expected_sandbox_is_named_and_regraded(
    tmp_path,
):
    """The sandbox was expected but bob's worker had none: the report names him,
    and a run that can sandbox grades him again (his grades were saved as made
    without it)."""

    def bob_unsandboxed(job: StudentJob) -> StudentOutcome:
        outcome = graded(job)
        outcome.sandboxed = job.student != "bob"
        return outcome

    report = run(
        tmp_path, FakeRunner(bob_unsandboxed), submissions(*STUDENTS), sandboxed=True
    )
    assert report.unsandboxed == ["bob"]
    runner = FakeRunner(graded)
    again = run(tmp_path, runner, submissions(*STUDENTS), sandboxed=True)
    assert runner.given == ["bob"]
    assert again.unsandboxed == []


def test_the_runners_warnings_reach_the_report_and_the_caller_when_they_come(
    tmp_path,
):
    refused = RefusedWorker("tcp://10.0.0.9:4000", "another course")
    heard: list[RunWarning] = []

    def answer(job: StudentJob) -> StudentOutcome:
        assert heard == [refused], "told before the first student is graded"
        return graded(job)

    report = run(
        tmp_path, FakeRunner(answer, (refused,)), submissions("alice"),
        on_warning=heard.append,
    )  # fmt: skip
    assert report.warnings == [refused]


# --- grade_class with a fake runner: the course it is given -----------------------

NAMED = "the sign in exp is flipped (that is σ(−z))"
RENAMED = "exp with its sign flipped (σ(−z) instead of σ(z))"


@pytest.fixture(scope="module")
def section_b(tmp_path_factory) -> Course:
    """A copy of the course whose catalogue names sigmoid-sign-flipped otherwise
    and whose course.toml names the LMS column "Backprop, section B"."""
    root = tmp_path_factory.mktemp("section-b")
    shutil.copy2(COURSE.config_file, root / CONFIG_NAME)
    shutil.copytree(COURSE.source_dir, root / "source" / ASSIGNMENT)
    catalogue = root / "source" / ASSIGNMENT / "backprop_helper" / "mistakes.py"
    text = catalogue.read_text()
    assert text.count(NAMED) == 1
    catalogue.write_text(text.replace(NAMED, RENAMED))
    (root / "course.toml").write_text('[lms]\nassignment = "Backprop, section B"\n')
    return Course(root)


def test_the_report_and_lms_files_come_from_the_course_graded(section_b, tmp_path):
    """misconceptions.csv names the mistake by the graded course's catalogue (OUT's
    copy, as the feedback pages do), not the repository's, and the Canvas file
    names the graded course's LMS column."""
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / f"lovelaceada_11_5001_{SIG}.ipynb").write_bytes(b"{}")
    message = f"sigmoid(z): s: {RENAMED}"

    def named(job: StudentJob) -> StudentOutcome:
        test = CellResult("test_sigmoid_values", 0.0, 1.0, message)
        row = NotebookGrade(job.student, SIG, 3.0, 4.0, Status.OK, tests=[test])
        return StudentOutcome(job.student, [row], {}, {}, "graded")

    out = tmp_path / "out"
    grade_class(
        submissions, out, course=section_b, runner=FakeRunner(named), progress=False
    )
    _, rows = read_csv(out / "misconceptions.csv")
    assert [(r["misconception"], r["mistake_id"]) for r in rows] == [
        (RENAMED, "sigmoid-sign-flipped")
    ]
    header = (out / "lms" / "canvas.csv").read_text().splitlines()[0]
    assert header.endswith(',"Backprop, section B"')


def test_every_file_holding_grades_is_the_owners_only(tmp_path):
    """After a run (the fake runner's outcomes installed, the outputs written):
    the gradebook, the CSVs, the report, the installed notebooks and pages, the
    state and logs are 0600; only the course's own files (source/, OUT's copy of
    the course, the config) may be read by others."""
    submissions = tmp_path / "class"
    for student in STUDENTS:
        (submissions / student).mkdir(parents=True)
        (submissions / student / f"{SIG}.ipynb").write_bytes(b"{}")
    out = tmp_path / "out"
    grade_class(submissions, out, course=COURSE, runner=FakeRunner(graded),
                progress=False)  # fmt: skip
    course_files = {"source", "nbgrader_config.py", ".grader/course"}
    loose = {
        str(path.relative_to(out)): oct(path.stat().st_mode & 0o777)
        for path in out.rglob("*")
        if path.is_file()
        and path.stat().st_mode & 0o077
        and not any(str(path.relative_to(out)).startswith(f) for f in course_files)
    }
    assert (out / "gradebook.db").stat().st_mode & 0o777 == 0o600
    assert loose == {}


def test_the_lock_keeps_no_password(tmp_path):
    """The command line the lock records (and a second run prints) shows a
    database URL's password as ***."""
    from grader.grading.lock import OutLock

    lock = OutLock(tmp_path / "lock")
    lock.acquire(["python", "-m", "grader", "grade", "--db",
                  "postgresql://grader:hunter2@db/class", "x"])  # fmt: skip
    try:
        text = (tmp_path / "lock").read_text()
    finally:
        lock.release()
    assert "hunter2" not in text
    assert "postgresql://grader:***@db/class" in text


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[lms]\ncanvas_assignment_id = "abc"\n', "canvas_assignment_id must be"),
        ('[[lms.assignments]]\nname = "A"\nnotebooks = ["06_rnn"]\n', "06_rnn"),
        ('[late]\npenalty = "half"\n', "penalty must be one of"),
        ("[lms\n", "cannot be read"),
    ],
)
def test_course_settings_that_cannot_be_used_stop_the_run_before_anyone_is_graded(
    tmp_path, toml, says
):
    """An [lms] id the LMS would misread (or a [late] the grader cannot apply)
    is an InputError before the submissions are read or OUT is made: nobody is
    graded first (it used to come after the whole class)."""
    course = course_copy(tmp_path / "course", toml)
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / f"lovelaceada_11_5001_{SIG}.ipynb").write_bytes(b"{}")
    runner = FakeRunner(graded)
    with pytest.raises(InputError, match=r"course\.toml") as error:
        grade_class(
            submissions, tmp_path / "out", course=course, runner=runner,
            progress=False,
        )  # fmt: skip
    assert says in str(error.value)
    assert runner.given == []
    assert not (tmp_path / "out").exists()


def sigmoid_graded(job: StudentJob) -> StudentOutcome:
    """01 as the worker's gradebook scores it: 3 of 4 (test_sigmoid_arrays lost)."""
    points = {"test_sigmoid_values": 2.0, "test_sigmoid_arrays": 0.0,
              "test_sigmoid_derivative": 1.0}  # fmt: skip
    tests = [CellResult(name, got, COURSE.notebook(SIG).points[name])
             for name, got in points.items()]  # fmt: skip
    row = NotebookGrade(job.student, SIG, 3.0, 4.0, Status.OK, tests=tests)
    scores = {(SIG, name): (got, None, False) for name, got in points.items()}
    return StudentOutcome(job.student, [row], {}, scores, "graded", job.sandbox)


def test_outputs_only_writes_the_gradebooks_scores_and_grades_nobody(tmp_path):
    """A manual score and extra credit given in the gradebook with nbgrader's API
    (as formgrader does) are in grades.csv, tests.csv and the LMS file after
    `outputs_only`, which gives the runner no student."""
    class_folder = tmp_path / "class"
    class_folder.mkdir()
    (class_folder / f"lovelaceada_11_5001_{SIG}.ipynb").write_bytes(b"{}")
    out = tmp_path / "out"
    grade_class(
        class_folder, out, course=COURSE, runner=FakeRunner(sigmoid_graded),
        progress=False,
    )  # fmt: skip
    column = "Backpropagation from scratch"  # the repository's course.toml
    assert read_csv(out / "lms" / "canvas.csv")[1][1][column] == "3"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
            arrays = gradebook.find_grade("test_sigmoid_arrays", SIG, ASSIGNMENT, "11")
            arrays.manual_score = 1.0
            arrays.extra_credit = 0.25
            gradebook.db.commit()
    untouched = FakeRunner(lambda job: AssertionError("graded"))
    report = grade_class(
        class_folder, out, course=COURSE, runner=untouched, progress=False,
        outputs_only=True,
    )  # fmt: skip
    assert untouched.given == [] and report.not_regraded == []
    _, grades = read_csv(out / "grades.csv")
    assert (grades[0]["notebook"], grades[0]["score"]) == (SIG, "4.25")
    _, tests = read_csv(out / "tests.csv")
    points = {row["test"]: row["points"] for row in tests}
    assert float(points["test_sigmoid_arrays"]) == 1.0
    _, canvas = read_csv(out / "lms" / "canvas.csv")
    assert canvas[1][column] == "4.25"


def test_outputs_only_where_nothing_was_graded_is_refused(tmp_path):
    class_folder = tmp_path / "class"
    class_folder.mkdir()
    (class_folder / f"lovelaceada_11_5001_{SIG}.ipynb").write_bytes(b"{}")
    with pytest.raises(InputError, match="run the grade command without"):
        grade_class(
            class_folder, tmp_path / "out", course=COURSE,
            runner=FakeRunner(sigmoid_graded), progress=False, outputs_only=True,
        )  # fmt: skip
