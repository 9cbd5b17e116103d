"""The grade verb: collect, find who to grade, run each student, record them in OUT
(the coordinator), write the outputs."""

from __future__ import annotations

import dataclasses
import os
import re
import time
import tomllib
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ..course import Course
from ..intake.collect import DEFAULT_PATTERN, Collection, Submission, collect
from ..intake.identity import lms_identities, submission_times
from ..kernel.probe import sandbox_problem, use_sandbox
from ..model import (
    ClassResults,
    InputError,
    Limits,
    NoSandbox,
    NotebookGrade,
    RunReport,
    RunWarning,
    Status,
)
from ..output.lms import LmsSettings
from ..output.write import write_outputs
from ..similarity.answers import class_code, course_boilerplate
from ..similarity.copies import CopiesReport, Spread, find_copies
from .gradebook import ClassGradebook, scored_by_gradebook
from .indexes import rewrite_student_pages
from .keys import check_scheduler, cluster_security
from .late import LatePolicy, student_times
from .outfolder import OutFolder
from .runner import LocalRunner, Runner
from .state import StateStore, failure_cause, student_key
from .student import StudentJob, StudentOutcome, course_rows, log_path

STAMPS_FILE = "lms-stamps.json"  # in OUT/.grader: when each LMS grade changed
BATCH_SECONDS = 1.0  # at most this long between two gradebook transactions
BATCH_STUDENTS = 200  # and at most this many students in one


def _course_settings(course: Course) -> dict:
    """The course's course.toml, or InputError saying where it is unreadable."""
    try:
        return course.settings()
    except (tomllib.TOMLDecodeError, OSError) as error:
        raise InputError(
            f"{course.settings_file} cannot be read: {error}. Fix it (TOML: "
            "https://toml.io) and run the command again."
        ) from None


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
    course: Course,
    workers: int | None = None,
    pattern: str | re.Pattern = DEFAULT_PATTERN,
    limits: Limits | None = None,
    sandbox: str = "auto",
    fork_kernels: bool = True,
    progress: bool = True,
    on_student_done: Callable[[str], None] | None = None,
    on_warning: Callable[[RunWarning], None] | None = None,
    scheduler: str | None = None,
    cluster_keys: Path | None = None,
    db: str | None = None,
    runner: Runner | None = None,
    outputs_only: bool = False,
) -> RunReport:
    """Grade every student found in `submissions` into `out`; return the report.

    course: the course to grade with (the CLI gives the repository's).
    workers: students graded at once on this machine (--jobs; default: the
    number of CPU cores).
    sandbox: "auto" (use bubblewrap when it works, else a warning), "required"
    (SandboxUnavailable without it) or "off" (grader.kernel.probe); on a
    cluster, decided on each worker (grader.grading.cluster).
    fork_kernels: start kernels from a warm fork server per student; False starts
    each afresh. Grades are the same either way.
    on_student_done: called with each student's id once they are recorded (tests
    use it to interrupt a run).
    on_warning: called with each warning when it comes (grading without the
    sandbox, a refused worker); the report lists them too.
    scheduler: a Dask scheduler's address (tls://HOST:PORT, or tcp:// on
    loopback): grade on its workers instead of local worker processes (`workers`).
    cluster_keys: the folder `cluster-keys` wrote, for a tls:// scheduler.
    db: the class gradebook's database URL (nbgrader's db_url); default
    OUT/gradebook.db.
    runner: where students are graded, instead of the two above (benchmarks).
    outputs_only: grade nobody; rewrite OUT's files from the gradebook and each
    student's last grades (a score changed in formgrader; course.toml's [lms] and
    [late] changed). The report's not_regraded names the students whose files
    are new or changed since.

    Every file written is derived from the class gradebook: each cell's score as
    it holds it (a manual score or extra credit given in formgrader included),
    less course.toml's late penalties, which are recorded there too.

    Raises InputError when course.toml's [lms] or [late] is not valid (before
    anything is read or graded), `submissions` is unusable (missing, empty, or
    holds no notebook that maps to a student and a released notebook) or OUT
    cannot be used; OutInUse when another run holds OUT.
    """
    settings = _course_settings(course)
    lms = LmsSettings.from_settings(settings, tuple(course.notebooks))
    late_policy = LatePolicy.from_settings(settings)
    limits = limits or Limits()
    warnings: list[RunWarning] = []
    security = None
    if scheduler is not None:
        check_scheduler(scheduler, cluster_keys)
        if cluster_keys is not None:
            security = cluster_security(cluster_keys)
    if outputs_only:
        sandboxed = sandbox != "off"  # nobody is graded: the sandbox is not tried
    elif scheduler is None and runner is None:
        sandboxed = use_sandbox(sandbox)
        if not sandboxed and sandbox == "auto":
            warnings.append(NoSandbox(sandbox_problem() or ""))
            if on_warning:
                on_warning(warnings[-1])
    else:  # each worker's own (checked when it joins)
        sandboxed = sandbox != "off"
    # nbgrader and the kernels work in other folders: a relative OUT lost every grade.
    folder = OutFolder(Path(out).absolute())
    folder.check_place(submissions)
    collection = collect(
        submissions,
        course.notebooks,
        pattern,
        assignments=tuple(item.name for item in lms.columns),
    )
    if not collection.submissions:
        reasons = "\n".join(
            f"  {u.source}: {u.reason}" for u in collection.unmapped[:20]
        )
        raise InputError(
            f"no notebook in {submissions} could be matched to a student and one of "
            f"{', '.join(course.notebooks)}.\n{reasons}\nUse one folder per student, "
            "or file names with the student id (see --pattern)."
        )
    spread: Spread | None = None  # where the copies' winnowed hashes are made
    with folder.claim():
        bundle = folder.prepare(course, db, rebuild=not outputs_only)
        if runner is None and not outputs_only:
            if scheduler is not None:
                from .cluster import DaskRunner  # Dask is imported only for clusters

                runner = DaskRunner(
                    scheduler, course, bundle, sandbox=sandbox, security=security
                )
                spread = runner.map
            else:
                runner = LocalRunner(workers or os.cpu_count() or 1, bundle)
        coordinator = Coordinator(
            folder, collection, course, bundle.fingerprint, limits,
            sandboxed=sandboxed, fallback=sandbox == "auto", fork_kernels=fork_kernels,
        )  # fmt: skip
        with ClassGradebook(folder.db_url) as gradebook:
            if outputs_only:
                report = coordinator.saved()
            else:
                report = coordinator.run(
                    runner, gradebook, progress=progress,
                    on_student_done=on_student_done, on_warning=on_warning,
                )  # fmt: skip
            results = report.results
            results.grades = scored_by_gradebook(results.grades, gradebook.scores())
            submitted = results.submitted_at
            results.late = late_policy.apply(results, submitted)
            gradebook.record_late(
                late_policy.due, student_times(submitted), results.late
            )
        # The mistakes are named from OUT's copy of the course, as the feedback
        # pages name them; the LMS columns come from the graded course.
        graded = Course(folder.course_folder)
        rewrite_student_pages(results, folder.root, graded)
        copies = class_copies(folder, results.students, graded, spread)
        write_outputs(
            results, folder.root, graded, lms=lms, copies=copies,
            stamps=folder.bookkeeping / STAMPS_FILE,
        )  # fmt: skip
    report.warnings[:0] = warnings  # this machine's came first
    return report


class Coordinator:
    """One run in OUT: who is graded, and recording each student as they finish.

    The students whose saved grades stand (same files, course, limits and sandbox;
    no grader_error, or the same one twice) are not graded again. The runner grades
    the rest; each outcome is installed in OUT at once, and recorded (gradebook
    rows in one transaction per batch, then the student saved as done) at most
    BATCH_SECONDS later or every BATCH_STUDENTS students.
    """

    def __init__(
        self,
        folder: OutFolder,
        collection: Collection,
        course: Course,
        bundle_fingerprint: str,
        limits: Limits,
        *,
        sandboxed: bool,
        fallback: bool,
        fork_kernels: bool = True,
    ) -> None:
        self.folder, self.collection, self.course = folder, collection, course
        self.states = StateStore(folder.state)
        self.limits, self.bundle_fingerprint = limits, bundle_fingerprint
        by_student: dict[str, list[Submission]] = defaultdict(list)
        for item in collection.submissions:
            by_student[item.student].append(item)
        self.submitted = by_student
        self.finished: dict[str, list[NotebookGrade]] = {}
        self.pending: dict[str, Pending] = {}
        for student, items in sorted(by_student.items()):
            key = student_key(items, bundle_fingerprint, limits, sandboxed)
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
        self.identities = lms_identities(collection)
        self.batch: list[tuple[str, StudentOutcome, list[str]]] = []
        self.unsandboxed: set[str] = set()

    def run(
        self,
        runner: Runner,
        gradebook: ClassGradebook,
        *,
        progress: bool = False,
        on_student_done: Callable[[str], None] | None = None,
        on_warning: Callable[[RunWarning], None] | None = None,
    ) -> RunReport:
        """Grade the pending students, recording them in batches; the report of
        every student (the outputs are not written here)."""
        bar = tqdm(total=len(self.submitted), initial=len(self.finished),
                   desc="grading", unit="student", disable=not progress)  # fmt: skip
        warnings: list[RunWarning] = []

        def warn(warning: RunWarning) -> None:
            warnings.append(warning)
            if on_warning:
                on_warning(warning)

        last_flush = time.monotonic()
        finished = runner.run([item.job for item in self.pending.values()], warn)
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
            finished.close()
            self._flush(gradebook, bar, on_student_done)
            bar.close()
        return RunReport(
            self._results(self.finished), warnings, sorted(self.unsandboxed)
        )

    def saved(self) -> RunReport:
        """Nobody graded (--outputs-only): the report of every student's last
        saved grades, whatever files they were graded from; the students a run
        would grade (new or changed files, a grader_error to try again) are named
        in not_regraded."""
        finished = dict(self.finished)
        for student in self.pending:
            saved = self.states.load(student, None)
            if saved is not None:
                finished[student] = saved.grades
        return RunReport(self._results(finished), not_regraded=sorted(self.pending))

    def _results(self, finished: dict[str, list[NotebookGrade]]) -> ClassResults:
        """The class's results: these students' rows, the collection's
        unmapped files and LMS identities."""
        grades = [grade for student in sorted(finished) for grade in finished[student]]
        collection = self.collection
        return ClassResults(
            grades, collection.unmapped, self.identities, submission_times(collection)
        )

    def _failed(self, job: StudentJob, error: BaseException | None) -> StudentOutcome:
        """A worker failed on this student: each notebook a grader_error."""
        detail = f"the grader failed on this student: {_describe(error)}"[:500]
        rows = [
            NotebookGrade.zero(
                job.student,
                stem,
                self.course.max_score(stem),
                Status.GRADER_ERROR,
                detail,
            )
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
        gradebook.write(
            {student: outcome.scores for student, outcome, _ in batch},
            self.identities,
        )
        for student, outcome, failures in batch:
            item = self.pending[student]
            key = item.key
            if student in self.unsandboxed:  # graded without the sandbox it expected
                key = student_key(
                    self.submitted[student], self.bundle_fingerprint, self.limits, False
                )
            rows = _all_notebooks(student, outcome.grades, self.folder, self.course)
            self.finished[student] = rows
            self.states.save(student, key, rows, failures)
            bar.update(1)
            if on_student_done:
                on_student_done(student)


def class_copies(
    folder: OutFolder, students: list[str], course: Course, spread: Spread | None
) -> CopiesReport:
    """The copies among the students' submitted notebooks in OUT (the Dask
    cluster's workers make the winnowed hashes when `spread` is given)."""
    notebooks = {
        student: {stem: folder.submitted(student, stem) for stem in course.notebooks}
        for student in students
    }
    code = class_code(notebooks, course)
    return find_copies(code, course_boilerplate(course), spread=spread)


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
