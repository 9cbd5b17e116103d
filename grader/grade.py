"""Grade a class: collect, normalize, autograde in parallel, merge, report.

OUT is an nbgrader course folder (nbgrader_config.py, source/, gradebook.db,
submitted/, autograded/) so nbgrader's own export and formgrader work there, plus
grades.csv, tests.csv, report.html and feedback/<student>/<notebook>.html. The grader's
bookkeeping lives in OUT/.grader/: the gradebook template, per-student state (what was
graded from which input) and scratch folders.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from functools import cache
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from . import gradebook, report
from .collect import DEFAULT_PATTERN, InputError, Submission, collect
from .course import (
    ASSIGNMENT,
    CONFIG_FILE,
    NOTEBOOKS,
    RELEASE_DIR,
    SOURCE_DIR,
    notebook_points,
)
from .normalize import UnreadableNotebook, normalize
from .release import make_course
from .results import (
    GRADER_ERROR,
    MISSING,
    UNREADABLE,
    WRONG_ASSIGNMENT,
    ClassResults,
    NotebookGrade,
)
from .sandbox import use_sandbox
from .student import Limits, StudentJob, StudentOutcome, grade_student

# Bump when a change to the grader changes grades: every student is graded again.
GRADER_VERSION = "1"

# Appended to the course config in OUT, where nbgrader's own commands are run too.
OUT_CONFIG = """
# Added by python -m grader: `nbgrader export` here must not overwrite the grader's
# grades.csv (which has one row per student and notebook).
c.ExportPlugin.to = "nbgrader_export.csv"
"""


def _hash_tree(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes under `folder`."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def _own_cell_ids(stem: str) -> frozenset[str]:
    """The grade_ids of a source notebook's answer and test cells (not the read-only
    cells such as `setup`, which every notebook of the course has)."""
    notebook = nbformat.read(SOURCE_DIR / f"{stem}.ipynb", as_version=4)
    return frozenset(
        cell.metadata["nbgrader"]["grade_id"]
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
        or cell.metadata.get("nbgrader", {}).get("grade")
    )


@cache
def _released(stem: str) -> nbformat.NotebookNode:
    """A released notebook, read once per run (callers copy cells, never change it)."""
    return nbformat.read(RELEASE_DIR / f"{stem}.ipynb", as_version=4)


def prepare_course(out: Path) -> str:
    """Make OUT an nbgrader course for this assignment; return the source's hash.

    When the source changed since the last run, the gradebook and every student's
    state are rebuilt from scratch (old grades would mix two versions of the tests).
    """
    source_hash = hashlib.sha256(
        (_hash_tree(SOURCE_DIR) + CONFIG_FILE.read_text() + GRADER_VERSION).encode()
    ).hexdigest()
    bookkeeping = out / ".grader"
    stamp = bookkeeping / "course.sha256"
    template = bookkeeping / "course" / "gradebook.template.db"
    if stamp.exists() and stamp.read_text() == source_hash and template.exists():
        return source_hash
    for stale in ("gradebook.db", "source", "release", "submitted", "autograded"):
        path = out / stale
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    shutil.rmtree(bookkeeping, ignore_errors=True)
    shutil.rmtree(out / "feedback", ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        course = make_course(Path(scratch))
        (bookkeeping / "course").mkdir(parents=True)
        shutil.copy2(course / "gradebook.db", template)
        shutil.copy2(course / "gradebook.db", out / "gradebook.db")
        shutil.copy2(CONFIG_FILE, bookkeeping / "course" / CONFIG_FILE.name)
        (out / CONFIG_FILE.name).write_text(CONFIG_FILE.read_text() + OUT_CONFIG)
        shutil.copytree(course / "source", bookkeeping / "course" / "source")
        shutil.copytree(course / "source", out / "source")
    stamp.write_text(source_hash)
    return source_hash


def _student_key(
    submissions: list[Submission], course_hash: str, limits: Limits, sandbox: bool
) -> str:
    """What a student's grades depend on: their files, the course, the limits."""
    digest = hashlib.sha256(course_hash.encode())
    digest.update(json.dumps(asdict(limits), sort_keys=True).encode())
    digest.update(b"sandbox" if sandbox else b"no sandbox")
    for item in sorted(submissions, key=lambda s: s.notebook):
        digest.update(item.notebook.encode() + b"\0" + item.content)
    return digest.hexdigest()


def _state_path(out: Path, student: str) -> Path:
    """Where one student's saved result lives."""
    return out / ".grader" / "state" / f"{student}.json"


def _load_state(out: Path, student: str, key: str) -> list[NotebookGrade] | None:
    """The saved grades when they were made from exactly these inputs, else None."""
    path = _state_path(out, student)
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    if state.get("key") != key:
        return None
    return [NotebookGrade.from_dict(grade) for grade in state["grades"]]


def _save_state(out: Path, student: str, key: str, grades: list[NotebookGrade]) -> None:
    """Record a student as done, atomically: the last step of grading a student."""
    path = _state_path(out, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"key": key, "grades": [asdict(grade) for grade in grades]}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, indent=1))
    os.replace(temporary, path)


def repair_cells(notebook: nbformat.NotebookNode, stem: str) -> list[str]:
    """Restore deleted nbgrader cells and de-duplicate copied ones, in place.

    A deleted cell comes back as released, after the nearest cell that precedes it in
    the source; nbgrader then refills test and read-only cells from the gradebook. Of
    cells sharing one grade_id, the first keeps it (nbgrader's DeduplicateIds rule);
    the copies stay as plain cells. Returns what was done, in words.
    """
    notes = []
    seen: set[str] = set()
    duplicated: list[str] = []
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            duplicated.append(grade_id)
        elif grade_id:
            seen.add(grade_id)
    if duplicated:
        names = ", ".join(sorted(set(duplicated)))
        notes.append(
            f"duplicated cells were de-duplicated: {names} (the first copy keeps "
            "its nbgrader id; every copy still runs)"
        )
    released = _released(stem).cells
    restored = []
    for position, cell in enumerate(released):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not grade_id or grade_id in seen:
            continue
        earlier = {
            c.metadata.get("nbgrader", {}).get("grade_id") for c in released[:position]
        }
        index = 0
        for current, existing in enumerate(notebook.cells):
            if existing.metadata.get("nbgrader", {}).get("grade_id") in earlier:
                index = current + 1
        copy = nbformat.from_dict(dict(cell))
        copy.id = nbformat.v4.new_code_cell().id
        notebook.cells.insert(index, copy)
        seen.add(grade_id)
        if cell.metadata["nbgrader"].get("grade") or cell.metadata["nbgrader"].get(
            "solution"
        ):
            restored.append(grade_id)
    if restored:
        notes.append(f"deleted graded cells were restored: {', '.join(restored)}")
    return notes


def _prepare_job(
    student: str,
    submissions: list[Submission],
    out: Path,
    limits: Limits,
    sandbox: bool,
) -> tuple[StudentJob, list[NotebookGrade]]:
    """Normalize a student's files; return the job and rows that need no grading."""
    job = StudentJob(
        student=student,
        course=out / ".grader" / "course",
        workdir=out / ".grader" / "work" / student,
        notebooks={},
        sources={},
        limits=limits,
        sandbox=sandbox,
    )
    ungraded = []
    for item in submissions:
        stem = item.notebook
        try:
            normalized = normalize(item.content, item.source)
        except UnreadableNotebook as error:
            ungraded.append(_zero(student, stem, UNREADABLE, str(error), item.source))
            continue
        cells = normalized.notebook.cells
        ids = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in cells}
        if not ids & _own_cell_ids(stem):
            detail = (
                f"none of the answer or test cells of {stem} are in this file: "
                "another notebook?"
            )
            ungraded.append(_zero(student, stem, WRONG_ASSIGNMENT, detail, item.source))
            continue
        job.sources[stem] = item.source
        repairs = repair_cells(normalized.notebook, stem)
        job.notebooks[stem] = nbformat.writes(normalized.notebook)
        job.notes[stem] = [*normalized.notes, *repairs]
    return job, ungraded


def _install(out: Path, outcome: StudentOutcome | None, student: str) -> None:
    """Move a worker's files into OUT and its scores into the class gradebook."""
    private = None
    for step in ("submitted", "autograded"):
        shutil.rmtree(out / step / student, ignore_errors=True)
    shutil.rmtree(out / "feedback" / student, ignore_errors=True)
    if outcome is not None:
        work = outcome.workdir
        for step in ("submitted", "autograded"):
            if (work / step / student).exists():
                shutil.copytree(work / step / student, out / step / student)
        feedback = work / "feedback" / student / ASSIGNMENT
        for page in feedback.glob("*.html") if feedback.exists() else []:
            target = out / "feedback" / student / page.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(page, target)
        private = work / "gradebook.db"
    gradebook.merge_student(out / "gradebook.db", private, student)


def _zero(
    student: str, stem: str, status: str, detail: str, source: str = ""
) -> NotebookGrade:
    """A row worth nothing: the notebook could not be graded, and why."""
    return NotebookGrade(
        student, stem, 0.0, notebook_points(stem), status, detail, source
    )


def _finish_rows(
    student: str, graded: list[NotebookGrade], out: Path
) -> list[NotebookGrade]:
    """One row per released notebook: graded ones, the rest as missing."""
    by_stem = {grade.notebook: grade for grade in graded}
    rows = []
    for stem in NOTEBOOKS:
        missing = "no file for this notebook was found"
        grade = by_stem.get(stem) or _zero(student, stem, MISSING, missing)
        page = out / "feedback" / student / f"{stem}.html"
        grade.feedback = str(page.relative_to(out)) if page.exists() else ""
        rows.append(grade)
    return rows


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
    on_student_done: Callable[[str], None] | None = None,
) -> ClassResults:
    """Grade every student found in `submissions` into `out`; return the results.

    sandbox: "auto" (use bubblewrap when it works, else warn loudly on stderr),
    "required" (SandboxUnavailable without it) or "off" (grader.sandbox).
    fork_kernels: start kernels from a warm fork server per student
    (grader.forkserver); False starts each afresh. Grades are the same either way.

    Raises InputError when `submissions` is unusable (missing, empty, or holds no
    notebook that maps to a student and a released notebook).
    """
    limits = limits or Limits()
    sandboxed = use_sandbox(sandbox)
    jobs = jobs or os.cpu_count() or 1
    # nbgrader and the kernels work in other folders: a relative OUT lost every grade.
    out = Path(out).absolute()
    collection = collect(submissions, NOTEBOOKS, pattern)
    if not collection.submissions:
        reasons = "\n".join(
            f"  {u.source}: {u.reason}" for u in collection.unmapped[:20]
        )
        raise InputError(
            f"no notebook in {submissions} could be matched to a student and one of "
            f"{', '.join(NOTEBOOKS)}.\n{reasons}\nUse one folder per student, or "
            "file names with the student id (see --pattern)."
        )
    out.mkdir(parents=True, exist_ok=True)
    course_hash = prepare_course(out)
    by_student: dict[str, list[Submission]] = defaultdict(list)
    for item in collection.submissions:
        by_student[item.student].append(item)

    finished: dict[str, list[NotebookGrade]] = {}
    pending: dict[str, tuple[StudentJob, list[NotebookGrade], str]] = {}
    for student, items in sorted(by_student.items()):
        key = _student_key(items, course_hash, limits, sandboxed)
        saved = _load_state(out, student, key)
        if saved is not None:
            finished[student] = saved
            continue
        job, ungraded = _prepare_job(student, items, out, limits, sandboxed)
        job.fork_kernels = fork_kernels
        pending[student] = (job, ungraded, key)

    bar = tqdm(total=len(by_student), initial=len(finished), desc="grading",
               unit="student", disable=not progress)  # fmt: skip
    pool = _pool(jobs, len(pending))
    try:
        futures = {
            pool.submit(grade_student, job): student
            for student, (job, _, _) in pending.items()
            if job.notebooks
        }
        for student, (job, ungraded, key) in pending.items():
            if not job.notebooks:
                finished[student] = _complete(out, student, None, ungraded, key)
                _tick(bar, on_student_done, student)
        for future in as_completed(futures):
            student = futures[future]
            job, ungraded, key = pending[student]
            try:
                outcome = future.result()
            except Exception as error:  # a worker crashed: record it, retry next run
                detail = f"the grader failed on this student: {error!r}"[:500]
                failed = [
                    _zero(student, s, GRADER_ERROR, detail) for s in job.notebooks
                ]
                finished[student] = _finish_rows(student, failed + ungraded, out)
                _tick(bar, on_student_done, student)
                continue
            finished[student] = _complete(out, student, outcome, ungraded, key)
            shutil.rmtree(outcome.workdir, ignore_errors=True)
            _tick(bar, on_student_done, student)
    except BaseException:
        # Interrupted: stop what has not started; finished students are recorded.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    bar.close()

    grades = [grade for student in sorted(finished) for grade in finished[student]]
    results = ClassResults(grades, collection.unmapped)
    report.write_grades_csv(results, out / "grades.csv")
    report.write_tests_csv(results, out / "tests.csv")
    report.write_class_report(results, out / "report.html")
    return results


def _complete(
    out: Path,
    student: str,
    outcome: StudentOutcome | None,
    ungraded: list[NotebookGrade],
    key: str,
) -> list[NotebookGrade]:
    """Install a student's results in OUT, then record them as done."""
    _install(out, outcome, student)
    graded = (outcome.grades if outcome else []) + ungraded
    rows = _finish_rows(student, graded, out)
    _save_state(out, student, key, rows)
    return rows


def _tick(bar, on_student_done, student: str) -> None:
    """Advance the progress bar and tell the caller (tests use it to interrupt)."""
    bar.update(1)
    if on_student_done:
        on_student_done(student)


def _pool(jobs: int, pending: int) -> ProcessPoolExecutor:
    """Worker processes that import nbgrader once each and grade whole students."""
    workers = max(1, min(jobs, pending))
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
