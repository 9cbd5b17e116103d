"""Grading on a Dask cluster: scaling, the cluster against local, the coordinator.

    .venv/bin/python benchmarks/cluster_speed.py [--students 10] [--coordinator 100,300]
        [--before REV] [--coordinator-only] [--repeats 3]

In one run on this machine:
1. the coordinator's own CPU per student: `grade_class` with a runner that returns a
   real student's outcome (five notebooks and the files made of them, unpickled as
   if it came from a worker) for every student of a class of N1 and of N2 students; the
   difference divided by N2 - N1 is the cost per student (target <= 10 ms), the rest
   is the run's fixed cost (course, report). With --before REV (a git revision, e.g.
   ed9eebb, before the feedback pages lost nine tenths of their weight), the same
   outcome with the files the grader of REV made for that student (graded by REV's
   code, in a copy of REV's tree) is measured side by side, repeat by repeat: the
   coordinator's code is this one in both, only what it writes differs;
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
from grader.grading.out import OutFolder  # noqa: E402
from grader.grading.student import StudentOutcome, grade_student  # noqa: E402
from tests.grading.cluster_support import dask_cluster  # noqa: E402
from tests.support import write_notebook  # noqa: E402

NOTEBOOKS_PER_STUDENT = len(NOTEBOOKS)
PROJECTED_NOTEBOOKS = 50_000
REPEATS = 3  # runs of each class size, the least counts (--repeats)


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

    def __init__(self, course) -> None:
        self.course = course
        self.outcome: StudentOutcome | None = None

    def run(self, jobs):
        for job in jobs:
            self.outcome = grade_student(job, self.course)
            yield job, self.outcome, None


class Canned:
    """Returns a copy of one real outcome for every student, unpickled from the
    bytes a worker would send (made before the clock starts)."""

    def __init__(self, outcome: StudentOutcome, students: list[str]) -> None:
        self.blobs = {
            student: pickle.dumps(renamed(outcome, student)) for student in students
        }

    def run(self, jobs):
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


def captured_outcome(scratch: Path) -> StudentOutcome:
    """One solved student graded for real by this grader, as a worker returns it."""
    one = write_class(scratch / "one", 1)
    capture = Capture(OutFolder(scratch / "capture").prepare(COURSE))
    grade_class(one, scratch / "capture", progress=False, runner=capture)
    assert capture.outcome is not None and capture.outcome.files, "no files captured"
    return capture.outcome


# Run in a copy of another revision's tree, with that tree first on sys.path: its
# grader grades one solved student and pickles the files it would send.
CAPTURE_FILES = """
import pickle, sys
from pathlib import Path
sys.path.insert(0, ".")
from benchmarks.cluster_speed import Capture, write_class
from grader.course import COURSE
from grader.grading.grade import grade_class
from grader.grading.out import OutFolder
scratch = Path(sys.argv[1])
capture = Capture(OutFolder(scratch / "capture").prepare(COURSE))
grade_class(write_class(scratch / "one", 1), scratch / "capture", progress=False,
            runner=capture)
Path(sys.argv[2]).write_bytes(pickle.dumps(capture.outcome.files))
"""


def files_of_revision(revision: str, scratch: Path) -> dict[str, bytes]:
    """The files the grader of `revision` makes for one solved student."""
    tree = scratch / "tree"
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    pickled = scratch / "files.pickle"
    subprocess.run(
        [sys.executable, "-c", CAPTURE_FILES, str(scratch / "work"), str(pickled)],
        cwd=tree, check=True, env={**os.environ, "PYTHONPATH": str(tree)},
    )  # fmt: skip
    return pickle.loads(pickled.read_bytes())


def coordinator_cpu(
    scratch: Path,
    sizes: tuple[int, int],
    outcomes: dict[str, StudentOutcome],
    repeats: int = REPEATS,
) -> dict[str, dict[int, tuple[float, float]]]:
    """Coordinator CPU seconds of a whole run, (user, system), per outcome (by
    label) and class size: the least of `repeats` runs, the outcomes taking turns."""
    seconds: dict[str, dict[int, tuple[float, float]]] = {}
    for size in sizes:
        submissions = write_class(scratch / f"class-{size}", size)
        students = [f"s{i:05d}" for i in range(size)]
        runners = {
            label: Canned(outcome, students) for label, outcome in outcomes.items()
        }
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in outcomes}
        for repeat in range(repeats):  # the least of a few: the machine is shared
            # Each outcome first in turn, and the disk's dirty pages written out
            # before each run: the kernel's writeback of one run's files (and its
            # reclaim of the page cache) is not charged to the next.
            order = list(runners.items())
            for label, runner in order if repeat % 2 == 0 else order[::-1]:
                out = scratch / f"out-{size}-{label}-{repeat}"
                OutFolder(out).prepare(COURSE)  # the course build is once per course
                os.sync()
                start = os.times()
                grade_class(submissions, out, progress=False, runner=runner)
                end = os.times()
                runs[label].append((end.user - start.user, end.system - start.system))
                shutil.rmtree(out)
        for label, times in runs.items():
            seconds.setdefault(label, {})[size] = min(times, key=sum)
    return seconds


def print_coordinator(
    sizes: tuple[int, int],
    seconds: dict[str, dict[int, tuple[float, float]]],
    outcomes: dict[str, StudentOutcome],
) -> dict[str, tuple[float, float]]:
    """Each outcome's runs, cost per student and fixed cost; returns label ->
    (CPU seconds per student, fixed seconds per run)."""
    more = sizes[1] - sizes[0]
    costs = {}
    for label, cpu in seconds.items():
        files = outcomes[label].files
        pages = sum(
            len(data) for path, data in files.items() if path.startswith("feedback/")
        )
        print(
            f"   {label}: a student's files {sum(map(len, files.values())) / 2**20:.2f}"
            f" MB, of them feedback pages {pages / 2**20:.2f} MB"
        )
        user = (cpu[sizes[1]][0] - cpu[sizes[0]][0]) / more
        system = (cpu[sizes[1]][1] - cpu[sizes[0]][1]) / more
        per_student = user + system
        fixed = sum(cpu[sizes[0]]) - per_student * sizes[0]
        for size, (user_s, system_s) in cpu.items():
            print(
                f"     {size:>5} students: {user_s:6.2f} s user + {system_s:.2f} s "
                f"system = {1000 * (user_s + system_s) / size:.1f} ms per student "
                "for the whole class"
            )
        print(
            f"     per student: {1000 * per_student:.1f} ms CPU (target <= 10): "
            f"{1000 * user:.1f} ms user, {1000 * system:.1f} ms system (mostly the "
            f"kernel writing the files; varies with the disk's load); fixed per "
            f"run: {fixed:.1f} s"
        )
        costs[label] = (per_student, fixed)
    if len(costs) == 2:
        (_, (before, _)), (_, (after, _)) = costs.items()
        print(f"   before / after, per student: {before / after:.2f}")
    return costs


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
    parser.add_argument(
        "--before", help="a git revision whose grader's files to compare with"
    )
    parser.add_argument(
        "--coordinator-only", action="store_true", help="part 1 only (no cluster)"
    )
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    sizes = tuple(int(n) for n in args.coordinator.split(","))
    scratch = Path(tempfile.mkdtemp(prefix="cluster-speed-"))
    try:
        print(f"1. coordinator, canned outcomes, classes of {sizes[0]} and {sizes[1]}")
        now = captured_outcome(scratch / "now")
        outcomes = {"now": now}
        if args.before:
            files = files_of_revision(args.before, scratch / "before")
            before = dataclasses.replace(now, files=files)
            outcomes = {f"before ({args.before})": before, "now": now}
        cpu = coordinator_cpu(scratch / "coordinator", sizes, outcomes, args.repeats)
        per_student, fixed = print_coordinator(sizes, cpu, outcomes)["now"]
        if args.coordinator_only:
            return

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
