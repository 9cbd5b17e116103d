"""Where the per-student stage runs: here, in worker processes (--jobs).

A runner takes StudentJobs and yields (job, outcome or error) as students finish;
the grading command does everything else. grader.grading.cluster is the other
runner, on a Dask cluster.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed

from .student import StudentJob, StudentOutcome, grade_student

Finished = tuple[StudentJob, StudentOutcome | None, BaseException | None]


class LocalRunner:
    """Worker processes on this machine, each grading whole students."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def run(self, jobs: list[StudentJob]) -> Iterator[Finished]:
        """Grade every job; yield each as it finishes (an error instead of an
        outcome when its worker failed)."""
        if not jobs:
            return
        workers = max(1, min(self.jobs, len(jobs)))
        self._pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn")
        )
        futures: dict[Future, StudentJob] = {
            self._pool.submit(grade_student, job): job for job in jobs
        }
        try:
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result(), None
                except Exception as error:
                    yield futures[future], None, error
        except BaseException:
            # Interrupted: stop what has not started; finished students are recorded.
            self._pool.shutdown(wait=True, cancel_futures=True)
            raise
        self._pool.shutdown(wait=True)
