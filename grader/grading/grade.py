"""The grade verb: collect, plan, run each student, merge into OUT, write outputs."""

from __future__ import annotations

import dataclasses
import os
import re
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ..course import COURSE, Course
from ..intake.collect import DEFAULT_PATTERN, Collection, Submission, collect
from ..intake.errors import InputError
from ..intake.identity import lms_identities
from ..intake.repair import zero
from ..kernel.probe import use_sandbox
from ..model import ClassResults, Limits, NotebookGrade, Status
from ..output.write import write_outputs
from .gradebook import ClassGradebook
from .out import OutFolder
from .runner import LocalRunner, Runner
from .state import StateStore, failure_cause, student_key
from .student import StudentJob, StudentOutcome, course_rows, log_path

BATCH_SECONDS = 1.0  # at most this long between two gradebook transactions
BATCH_STUDENTS = 200  # and at most this many students in one


@dataclass
class Pending:
    """A student to grade: the job, the key to save under, earlier failures."""

    job: StudentJob
    key: str
    failures: list[str]  # causes of earlier failed attempts (grader_error)


def grade_class(
    submissions: Path,
    out: Path,
    *,
    jobs: int | None = None,
    pattern: str | re.Pattern = DEFAULT_PATTERN,
    limits: Limits | None = None,
    sandbox: str = "auto",
    fork_kernels: bool = True,
    progress: bool = True,
    course: Course = COURSE,
    on_student_done: Callable[[str], None] | None = None,
    scheduler: str | None = None,
    db: str | None = None,
    runner: Runner | None = None,
    notes: list[str] | None = None,
) -> ClassResults:
    """Grade every student found in `submissions` into `out`; return the results.

    sandbox: "auto" (use bubblewrap when it works, else warn loudly on stderr),
    "required" (SandboxUnavailable without it) or "off" (grader.kernel.probe); on a
    cluster, decided on each worker (grader.grading.cluster).
    fork_kernels: start kernels from a warm fork server per student; False starts
    each afresh. Grades are the same either way.
    on_student_done: called with each student's id once they are recorded (tests
    use it to interrupt a run).
    scheduler: a Dask scheduler's address (tcp://HOST:PORT): grade on its workers
    instead of local worker processes (`jobs`).
    db: the class gradebook's database URL (nbgrader's db_url); default
    OUT/gradebook.db.
    runner: where students are graded, instead of the two above (benchmarks).
    notes: a list the run adds what the summary should say to (workers refused or
    without a sandbox, students graded without the sandbox).

    Raises InputError when `submissions` is unusable (missing, empty, or holds no
    notebook that maps to a student and a released notebook) or OUT cannot be
    used; OutInUse when another run holds OUT.
    """
    limits = limits or Limits()
    if scheduler is None and runner is None:
        sandboxed = use_sandbox(sandbox)
    else:  # each worker's own (checked when it joins)
        sandboxed = sandbox != "off"
    # nbgrader and the kernels work in other folders: a relative OUT lost every grade.
    folder = OutFolder(Path(out).absolute())
    folder.check_place(submissions)
    collection = collect(submissions, course.notebooks, pattern)
    if not collection.submissions:
        reasons = "\n".join(
            f"  {u.source}: {u.reason}" for u in collection.unmapped[:20]
        )
        raise InputError(
            f"no notebook in {submissions} could be matched to a student and one of "
            f"{', '.join(course.notebooks)}.\n{reasons}\nUse one folder per student, "
            "or file names with the student id (see --pattern)."
        )
    with folder.claim():
        bundle = folder.prepare(course, db)
        if runner is None:
            if scheduler is not None:
                from .cluster import DaskRunner  # Dask is imported only for clusters

                runner = DaskRunner(scheduler, bundle, sandbox=sandbox)
            else:
                runner = LocalRunner(jobs or os.cpu_count() or 1, bundle)
        plan = Plan(
            folder, collection, limits, sandboxed, sandbox == "auto", fork_kernels,
            course, bundle.fingerprint,
        )  # fmt: skip
        with ClassGradebook(folder.db_url) as gradebook:
            results = plan.run(runner, gradebook, progress, on_student_done)
    if notes is not None:
        notes.extend(getattr(runner, "notes", []))
        if plan.unsandboxed:
            names = ", ".join(sorted(plan.unsandboxed)[:20])
            notes.append(
                f"{len(plan.unsandboxed)} student(s) graded WITHOUT the sandbox "
                f"(their worker has none): {names}"
            )
    return results


class Plan:
    """One run in OUT: who is graded, and recording them (the coordinator)."""

    def __init__(
        self,
        folder: OutFolder,
        collection: Collection,
        limits: Limits,
        sandboxed: bool,
        fallback: bool,
        fork_kernels: bool,
        course: Course,
        fingerprint: str,
    ) -> None:
        self.folder, self.collection, self.course = folder, collection, course
        self.states = StateStore(folder.state)
        self.limits, self.fingerprint = limits, fingerprint
        by_student: dict[str, list[Submission]] = defaultdict(list)
        for item in collection.submissions:
            by_student[item.student].append(item)
        self.submitted = by_student
        self.finished: dict[str, list[NotebookGrade]] = {}
        self.pending: dict[str, Pending] = {}
        for student, items in sorted(by_student.items()):
            key = student_key(items, fingerprint, limits, sandboxed)
            saved = self.states.load(student, key)
            if saved is not None and saved.settled:
                self.finished[student] = saved.grades
                continue
            job = StudentJob(
                student, items, limits, sandbox=sandboxed, fork=fork_kernels,
                sandbox_fallback=sandboxed and fallback,
            )  # fmt: skip
            failures = saved.failures if saved is not None else []
            self.pending[student] = Pending(job, key, failures)
        self.batch: list[tuple[str, StudentOutcome, list[str]]] = []
        self.unsandboxed: set[str] = set()

    def run(
        self,
        runner: Runner,
        gradebook: ClassGradebook,
        progress: bool,
        on_student_done: Callable[[str], None] | None,
    ) -> ClassResults:
        """Grade the pending students, recording them in batches; write the outputs."""
        bar = tqdm(total=len(self.submitted), initial=len(self.finished),
                   desc="grading", unit="student", disable=not progress)  # fmt: skip
        last_flush = time.monotonic()
        finished = runner.run([item.job for item in self.pending.values()])
        try:
            for job, outcome, error in finished:
                if outcome is None:
                    outcome = self._failed(job, error)
                self._add(outcome)
                now = time.monotonic()
                if (
                    len(self.batch) >= BATCH_STUDENTS
                    or now - last_flush >= BATCH_SECONDS
                    or on_student_done
                ):
                    self._flush(gradebook, bar, on_student_done)
                    last_flush = now
        finally:
            # Whatever ends the run: the runner stops now (its workers, its
            # scratch folder), not whenever the interrupted generator is collected,
            # and the students graded so far are recorded.
            close = getattr(finished, "close", None)
            if close is not None:
                close()
            self._flush(gradebook, bar, on_student_done)
            bar.close()
        return self._write_outputs()

    def _failed(self, job: StudentJob, error: BaseException | None) -> StudentOutcome:
        """A worker failed on this student: each notebook a grader_error."""
        detail = f"the grader failed on this student: {_describe(error)}"[:500]
        rows = [
            zero(job.student, stem, self.course, Status.GRADER_ERROR, detail)
            for stem in sorted({item.notebook for item in job.submissions})
        ]
        log = "".join(traceback.format_exception(error)) if error else detail
        return StudentOutcome(job.student, rows, {}, {}, log, sandboxed=job.sandbox)

    def _add(self, outcome: StudentOutcome) -> None:
        """Install a student's files in OUT (the grading command is the only
        writer), noting their failures; recorded at the next flush."""
        student = outcome.student
        item = self.pending[student]
        if not outcome.sandboxed and item.job.sandbox:
            self.unsandboxed.add(student)
        cause = failure_cause(outcome.grades)
        failures = [*item.failures, cause] if cause else []
        if item.failures:
            outcome.log = _with_earlier_log(
                outcome.log, item.failures, self.folder, student
            )
        if cause and len(failures) >= 2 and failures[-1] == failures[-2]:
            for row in outcome.grades:
                if row.status == Status.GRADER_ERROR:
                    row.detail += f" ({SAME_FAILURE})"
        self.folder.install(student, outcome)
        # Until the batch is recorded only the grades and scores are needed, not
        # the ~3 MB of files (200 students a batch).
        kept = dataclasses.replace(outcome, files={}, log="")
        self.batch.append((student, kept, failures))

    def _flush(self, gradebook: ClassGradebook, bar, on_student_done) -> None:
        """The batch's gradebook rows in one transaction, then each student saved
        as done: a student is done only once their files and rows are in OUT."""
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        gradebook.write({student: outcome.scores for student, outcome, _ in batch})
        for student, outcome, failures in batch:
            item = self.pending[student]
            key = item.key
            if student in self.unsandboxed:  # graded without the sandbox it expected
                key = student_key(
                    self.submitted[student], self.fingerprint, self.limits, False
                )
            rows = _all_notebooks(student, outcome.grades, self.folder, self.course)
            self.finished[student] = rows
            self.states.save(student, key, rows, failures)
            bar.update(1)
            if on_student_done:
                on_student_done(student)

    def _write_outputs(self) -> ClassResults:
        grades = [
            grade for student in sorted(self.finished)
            for grade in self.finished[student]
        ]  # fmt: skip
        collection = self.collection
        results = ClassResults(grades, collection.unmapped, lms_identities(collection))
        write_outputs(results, self.folder.root)
        return results


SAME_FAILURE = (
    "the same failure as on the previous run: not tried again until this "
    "student's files, the course or the limits change; the cause is in the log"
)


def _describe(error: BaseException) -> str:
    """An error in one line: its type and message."""
    return f"{type(error).__name__}: {error}"


def _with_earlier_log(
    log: str, failures: list[str], folder: OutFolder, student: str
) -> str:
    """This attempt's log, then the earlier failed attempts' (their causes kept)."""
    try:
        earlier = (folder.root / log_path(student)).read_text(errors="replace")
    except OSError:
        earlier = ""
    causes = "\n".join(f"  {cause}" for cause in failures)
    return (
        f"{log}\n\n=== earlier attempts failed (grader_error), retried; causes:\n"
        f"{causes}\n=== the last failed attempt's log:\n{earlier}"
    )


def _all_notebooks(
    student: str, graded: list[NotebookGrade], folder: OutFolder, course: Course
) -> list[NotebookGrade]:
    """One row per released notebook: graded ones, the rest as missing."""
    rows = course_rows(student, graded, course)
    for grade in rows:
        grade.feedback = folder.feedback(student, grade.notebook)
    return rows
