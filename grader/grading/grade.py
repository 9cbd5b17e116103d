"""The grade verb: collect, plan, run each student, merge into OUT, write outputs."""

from __future__ import annotations

import os
import re
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
from ..intake.repair import CleanNotebooks, clean_notebooks, zero
from ..kernel.probe import use_sandbox
from ..model import ClassResults, Limits, NotebookGrade, Status
from ..output.write import write_outputs
from .gradebook import merge_student
from .out import OutFolder
from .runner import LocalRunner
from .state import StateStore, failure_cause, student_key
from .student import StudentJob, StudentOutcome, log_path


@dataclass
class Pending:
    """A student to grade: their clean notebooks, the job, the key to save under."""

    clean: CleanNotebooks
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
) -> ClassResults:
    """Grade every student found in `submissions` into `out`; return the results.

    sandbox: "auto" (use bubblewrap when it works, else warn loudly on stderr),
    "required" (SandboxUnavailable without it) or "off" (grader.kernel.probe).
    fork_kernels: start kernels from a warm fork server per student; False starts
    each afresh. Grades are the same either way.
    on_student_done: called with each student's id once they are recorded (tests
    use it to interrupt a run).

    Raises InputError when `submissions` is unusable (missing, empty, or holds no
    notebook that maps to a student and a released notebook).
    """
    limits = limits or Limits()
    sandboxed = use_sandbox(sandbox)
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
        return _grade_in(
            folder, collection, jobs=jobs, limits=limits, sandboxed=sandboxed,
            fork_kernels=fork_kernels, progress=progress, course=course,
            on_student_done=on_student_done,
        )  # fmt: skip


def _grade_in(
    folder: OutFolder,
    collection: Collection,
    *,
    jobs: int | None,
    limits: Limits,
    sandboxed: bool,
    fork_kernels: bool,
    progress: bool,
    course: Course,
    on_student_done: Callable[[str], None] | None,
) -> ClassResults:
    """grade_class once OUT is this run's."""
    bundle = folder.prepare(course)
    states = StateStore(folder.state)
    by_student: dict[str, list[Submission]] = defaultdict(list)
    for item in collection.submissions:
        by_student[item.student].append(item)

    finished: dict[str, list[NotebookGrade]] = {}
    pending: dict[str, Pending] = {}
    for student, items in sorted(by_student.items()):
        key = student_key(items, bundle.fingerprint, limits, sandboxed)
        saved = states.load(student, key)
        if saved is not None and saved.settled:
            finished[student] = saved.grades
            continue
        clean = clean_notebooks(student, items, course)
        job = StudentJob(
            student, clean.notebooks, clean.sources, bundle, limits, clean.notes,
            sandbox=sandboxed, fork=fork_kernels,
        )  # fmt: skip
        failures = saved.failures if saved is not None else []
        pending[student] = Pending(clean, job, key, failures)

    bar = tqdm(total=len(by_student), initial=len(finished), desc="grading",
               unit="student", disable=not progress)  # fmt: skip

    def record(student: str, outcome: StudentOutcome | None, rows: list) -> None:
        """Install a student's results in OUT, then save them as done (with the
        cause when grading failed: retried on the next run unless it is the same
        failure twice)."""
        item = pending[student]
        cause = failure_cause(rows)
        failures = [*item.failures, cause] if cause else []
        if outcome is not None and item.failures:
            outcome.log = _with_earlier_log(outcome.log, item.failures, folder, student)
        if cause and len(failures) >= 2 and failures[-1] == failures[-2]:
            for row in rows:
                if row.status == Status.GRADER_ERROR:
                    row.detail += f" ({SAME_FAILURE})"
        folder.install(student, outcome)
        scores = outcome.scores if outcome else {}
        merge_student(f"sqlite:///{folder.gradebook}", student, scores)
        finished[student] = _all_notebooks(student, rows, folder, course)
        states.save(student, item.key, finished[student], failures)
        bar.update(1)
        if on_student_done:
            on_student_done(student)

    for student, item in pending.items():
        if not item.job.notebooks:
            record(student, None, item.clean.ungraded)
    runner = LocalRunner(jobs or os.cpu_count() or 1)
    graded = [item.job for item in pending.values() if item.job.notebooks]
    for job, outcome, error in runner.run(graded):
        ungraded = pending[job.student].clean.ungraded
        if outcome is not None:
            record(job.student, outcome, outcome.grades + ungraded)
            continue
        # The worker failed: every notebook a grader_error, with the cause.
        detail = f"the grader failed on this student: {_describe(error)}"[:500]
        failed = [
            zero(job.student, stem, course, Status.GRADER_ERROR, detail)
            for stem in job.notebooks
        ]
        log = "".join(traceback.format_exception(error))
        outcome = StudentOutcome(job.student, failed, {}, {}, log)
        record(job.student, outcome, failed + ungraded)
    bar.close()

    grades = [grade for student in sorted(finished) for grade in finished[student]]
    results = ClassResults(grades, collection.unmapped, lms_identities(collection))
    write_outputs(results, folder.root)
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
    by_stem = {grade.notebook: grade for grade in graded}
    rows = []
    for stem in course.notebooks:
        missing = "no file for this notebook was found"
        grade = by_stem.get(stem) or zero(
            student, stem, course, Status.MISSING, missing
        )
        grade.feedback = folder.feedback(student, stem)
        rows.append(grade)
    return rows
