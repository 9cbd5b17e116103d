"""Grading on a Dask cluster: scaling, the cluster against local, the coordinator.

    .venv/bin/python benchmarks/cluster_speed.py [--students 10] [--coordinator 100,300]

In one run on this machine:
1. the coordinator's own CPU per student: `grade_class` with a runner that returns a
   real student's outcome (five notebooks and the files made of them, unpickled as
   if it came from a worker) for every student of a class of N1 and of N2 students; the
   difference divided by N2 - N1 is the cost per student (target <= 10 ms), the rest
   is the run's fixed cost (course, report);
2. the same class (solved students, all five notebooks) graded through
   `python -m grader grade --scheduler` on a loopback cluster with one `dask worker`
   and with two (target: two >= 1.8x one), and locally with the default --jobs
   (target: the two-worker cluster within 1.1x of local);
3. a projection, from the measured per-student costs, of a 50,000-notebook class
   (10,000 students) on N workers.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.course import COURSE, NOTEBOOKS  # noqa: E402
from grader.demo.submissions import solved  # noqa: E402
from grader.grading.grade import grade_class  # noqa: E402
from grader.grading.outfolder import OutFolder  # noqa: E402
from grader.grading.student import StudentOutcome, grade_student  # noqa: E402
from tests.grading.cluster_support import dask_cluster  # noqa: E402
from tests.support import write_notebook  # noqa: E402

NOTEBOOKS_PER_STUDENT = len(NOTEBOOKS)
PROJECTED_NOTEBOOKS = 50_000
REPEATS = 3


def write_class(folder: Path, students: int) -> Path:
    """`students` students who hand in every notebook, solved."""
    notebooks = {stem: solved(stem) for stem in NOTEBOOKS}
    for index in range(students):
        for stem, notebook in notebooks.items():
            write_notebook(folder / f"s{index:05d}" / f"{stem}.ipynb", notebook)
    return folder


# --- 1. the coordinator ---------------------------------------------------------------


class Capture:
    """Grades the first job for real (in this process) and keeps its outcome."""

    def __init__(self, bundle) -> None:
        self.bundle = bundle
        self.outcome: StudentOutcome | None = None

    def run(self, jobs, warn):
        for job in jobs:
            self.outcome = grade_student(job, self.bundle)
            yield job, self.outcome, None


class Canned:
    """Returns a copy of one real outcome for every student, unpickled from the
    bytes a worker would send (made before the clock starts)."""

    def __init__(self, outcome: StudentOutcome, students: list[str]) -> None:
        self.blobs = {
            student: pickle.dumps(renamed(outcome, student)) for student in students
        }

    def run(self, jobs, warn):
        for job in jobs:
            yield job, pickle.loads(self.blobs[job.student]), None


def renamed(outcome: StudentOutcome, student: str) -> StudentOutcome:
    old = outcome.student
    return dataclasses.replace(
        outcome,
        student=student,
        grades=[dataclasses.replace(g, student=student) for g in outcome.grades],
        files={
            path.replace(f"/{old}/", f"/{student}/"): data
            for path, data in outcome.files.items()
        },
    )


def coordinator_cpu(
    scratch: Path, sizes: tuple[int, int]
) -> tuple[dict[int, tuple[float, float]], int]:
    """Coordinator CPU seconds of a whole run, (user, system), per class size, and
    the bytes of files one student's outcome carries."""
    one = write_class(scratch / "one", 1)
    capture = Capture(OutFolder(scratch / "capture").prepare(COURSE))
    grade_class(one, scratch / "capture", course=COURSE, progress=False, runner=capture)
    assert capture.outcome is not None and capture.outcome.files, "no files captured"
    student_bytes = sum(len(data) for data in capture.outcome.files.values())
    seconds = {}
    for size in sizes:
        submissions = write_class(scratch / f"class-{size}", size)
        runner = Canned(capture.outcome, [f"s{i:05d}" for i in range(size)])
        runs = []
        for repeat in range(REPEATS):  # the least of a few: the machine is shared
            out = scratch / f"out-{size}-{repeat}"
            OutFolder(out).prepare(COURSE)  # the course build is once per course
            start = os.times()
            grade_class(submissions, out, course=COURSE, progress=False, runner=runner)
            end = os.times()
            runs.append((end.user - start.user, end.system - start.system))
            shutil.rmtree(out)
        seconds[size] = min(runs, key=sum)
    return seconds, student_bytes


# --- 2. the cluster -------------------------------------------------------------------


def timed_grade(submissions: Path, out: Path, *extra: str) -> float:
    """Wall seconds of `python -m grader grade` (fresh OUT)."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(submissions), "--out",
         str(out), "--quiet", *extra],
        cwd=REPO, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.monotonic() - start


def same_grades(first: Path, second: Path) -> bool:
    return all(
        (first / name).read_bytes() == (second / name).read_bytes()
        for name in ("grades.csv", "tests.csv")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--coordinator", default="100,300")
    args = parser.parse_args()
    sizes = tuple(int(n) for n in args.coordinator.split(","))
    scratch = Path(tempfile.mkdtemp(prefix="cluster-speed-"))
    try:
        print(f"1. coordinator, canned outcomes, classes of {sizes[0]} and {sizes[1]}")
        cpu, student_bytes = coordinator_cpu(scratch / "coordinator", sizes)
        more = sizes[1] - sizes[0]
        user = (cpu[sizes[1]][0] - cpu[sizes[0]][0]) / more
        system = (cpu[sizes[1]][1] - cpu[sizes[0]][1]) / more
        per_student = user + system
        fixed = sum(cpu[sizes[0]]) - per_student * sizes[0]
        for size, (user_s, system_s) in cpu.items():
            print(
                f"   {size:>5} students: {user_s:6.2f} s user + {system_s:.2f} s system"
            )
        print(
            f"   per student: {1000 * per_student:.1f} ms CPU (target <= 10): "
            f"{1000 * user:.1f} ms user, {1000 * system:.1f} ms system (the kernel "
            f"writing {student_bytes / 2**20:.1f} MB of files; varies with the disk's "
            f"load); fixed per run: {fixed:.1f} s"
        )

        students = args.students
        submissions = write_class(scratch / "class", students)
        print(f"2. {students} students x {NOTEBOOKS_PER_STUDENT} notebooks, wall")
        # Local before and after the cluster, so that a change in the shared
        # machine's load shows; the cluster is compared with the faster of the two.
        local_before = timed_grade(submissions, scratch / "local")
        with dask_cluster(scratch / "logs", workers=1) as cluster:
            one = timed_grade(
                submissions, scratch / "one-worker", "--scheduler", cluster.address
            )
            cluster.add_worker()
            cluster.wait_workers(2)
            two = timed_grade(
                submissions, scratch / "two-workers", "--scheduler", cluster.address
            )
        local_after = timed_grade(submissions, scratch / "local")
        local = min(local_before, local_after)
        # The machine's own scaling: one local worker process against two.
        local_one = timed_grade(submissions, scratch / "local-one", "--jobs", "1")
        print(
            f"   local (--jobs {os.cpu_count()}): {local_before:6.1f} s before, "
            f"{local_after:.1f} s after the cluster"
        )
        print(f"   cluster, 1 worker:  {one:6.1f} s")
        print(f"   cluster, 2 workers: {two:6.1f} s")
        print(f"   local, --jobs 1:    {local_one:6.1f} s")
        print(f"   1 worker / 2 workers: {one / two:.2f} (target >= 1.8)")
        print(f"   local --jobs 1 / --jobs 2: {local_one / local:.2f} (this machine)")
        print(f"   2 workers / local:    {two / local:.2f} (target <= 1.1)")
        print(f"   load average now: {os.getloadavg()[0]:.1f} (the machine is shared)")
        same = same_grades(scratch / "local", scratch / "two-workers")
        print(f"   grades.csv and tests.csv identical to local: {same}")

        worker_seconds = one / students  # one worker grades one student at a time
        projected_students = PROJECTED_NOTEBOOKS // NOTEBOOKS_PER_STUDENT
        print(
            f"3. projection: {PROJECTED_NOTEBOOKS} notebooks = {projected_students} "
            f"students, {worker_seconds:.1f} s per student on a worker, "
            f"{1000 * per_student:.1f} ms on the coordinator"
        )
        for workers in (1, 10, 50, 100, 200, 500, 1000):
            grading = projected_students * worker_seconds / workers
            coordinating = projected_students * per_student
            total = max(grading, coordinating) + fixed
            bound = "workers" if grading >= coordinating else "coordinator"
            print(f"   {workers:>5} workers: {total / 60:8.1f} min ({bound}-bound)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
