"""Where the per-student stage runs: here, in worker processes (--jobs).

A runner takes StudentJobs and yields (job, outcome or error) as students finish
(the Runner protocol); the coordinator (grader.grading.grade) does everything else.
grader.grading.cluster is the other runner, on a Dask cluster.

Local workers are forked from the grading command (multiprocessing's "fork"), so
they start with its imports instead of making their own: a spawned worker spent
~2.6 s of CPU importing nbgrader and the grader before its first student
(benchmarks/worker_start.py). The pool forks them before its own thread starts
(cpython #90622), and a worker uses nothing of the command's but its memory: the
course and the scratch folder are handed over when it starts.

Local workers die with the grading command: each sets PR_SET_PDEATHSIG to SIGKILL
when it starts (and exits at once if the command already died), so a `kill -9` of
the command leaves nothing running (a worker's sandboxes die with it: bwrap's
--die-with-parent). Students' private courses go in one scratch folder per run,
`$TMPDIR/grader-run-<pid>-*`, removed at the end, so a worker killed mid-student
leaves nothing behind once the run ends (or, after a kill -9 of the command, once
the next run starts).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Protocol

from ..course import HELPER_PACKAGE
from ..model import RunWarning
from .bundle import CourseBundle
from .student import StudentJob, StudentOutcome, grade_student

Finished = tuple[StudentJob, StudentOutcome | None, BaseException | None]
PR_SET_PDEATHSIG = 1


class WorkerDied(RuntimeError):
    """The process grading a student died (killed by a signal, out of memory)."""


class Runner(Protocol):
    """Where students are graded."""

    def run(
        self, jobs: list[StudentJob], warn: Callable[[RunWarning], None]
    ) -> Generator[Finished, None, None]:
        """Grade every job; yield each as it finishes, with its outcome, or with the
        error instead when its worker failed. What the run's summary should say
        (a refused worker, one without a sandbox) goes to `warn` when it happens.
        Closing the generator stops the runner: its workers, its scratch folder."""
        ...


# In a local worker process: the run's scratch folder and course, sent once.
_scratch: str | None = None
_bundle: CourseBundle | None = None


def die_with_parent(
    parent: int, scratch: str | None = None, bundle: CourseBundle | None = None
) -> None:
    """In a worker process: be killed when `parent` (the grading command) dies;
    keep the run's scratch folder and course. A forked worker forgets the helper
    package its parent may have imported: it imports the course's own, from the
    course it is handed, as a spawned one does."""
    global _scratch, _bundle
    _scratch, _bundle = scratch, bundle
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    for name in [n for n in sys.modules if n.partition(".")[0] == HELPER_PACKAGE]:
        del sys.modules[name]


def _grade(job: StudentJob) -> StudentOutcome:
    """grade_student in a worker process, in the run's scratch folder."""
    return grade_student(job, _bundle, _scratch)


def remove_stale_scratch() -> None:
    """Scratch folders of runs whose process is gone (killed with kill -9)."""
    for folder in Path(tempfile.gettempdir()).glob("grader-run-*-*"):
        pid = folder.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


START_METHOD = "fork"  # multiprocessing's; "spawn" starts each worker afresh


class LocalRunner:
    """Worker processes on this machine, each grading whole students; the course is
    handed to each worker once, when it starts."""

    def __init__(
        self, workers: int, bundle: CourseBundle, start_method: str = START_METHOD
    ) -> None:
        self.workers = workers
        self.bundle = bundle
        self.start_method = start_method

    def run(
        self, jobs: list[StudentJob], warn: Callable[[RunWarning], None]
    ) -> Generator[Finished, None, None]:
        """Grade every job; yield each as it finishes (an error instead of an
        outcome when its worker failed). Nothing to warn about here.

        At most `workers` students are handed to the pool at a time, so a worker that
        dies (the pool breaks) costs only the students then being graded (they
        come back as WorkerDied); a fresh pool grades the rest.
        """
        queue = list(reversed(jobs))
        if not queue:
            return
        remove_stale_scratch()
        self._scratch = tempfile.mkdtemp(prefix=f"grader-run-{os.getpid()}-")
        try:
            while queue:
                yield from self._pool_run(queue)
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(self._scratch)

    def _pool_run(self, queue: list[StudentJob]) -> Iterator[Finished]:
        """Grade from `queue` (popped from the end) until it is empty or the pool
        breaks."""
        workers = max(1, min(self.workers, len(queue)))
        pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context(self.start_method),
            initializer=die_with_parent,
            initargs=(os.getpid(), self._scratch, self.bundle),
        )  # fmt: skip
        running: dict[Future, StudentJob] = {}
        try:
            while queue or running:
                while queue and len(running) < workers:
                    job = queue.pop()
                    running[pool.submit(_grade, job)] = job
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    job = running.pop(future)
                    try:
                        yield job, future.result(), None
                    except BrokenProcessPool:
                        broken = True
                        yield (
                            job,
                            None,
                            WorkerDied(
                                "the worker process grading this student died "
                                "(killed by a signal, or out of memory)"
                            ),
                        )
                    except Exception as error:
                        yield job, None, error
                if broken:
                    for job in running.values():
                        yield (
                            job,
                            None,
                            WorkerDied(
                                "the worker process grading this student died "
                                "(killed by a signal, or out of memory)"
                            ),
                        )
                    running.clear()
                    break
        except BaseException:
            # Interrupted: stop what has not started; finished students are recorded.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
