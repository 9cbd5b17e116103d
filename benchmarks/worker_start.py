"""Local workers forked from the grading command vs spawned afresh, in one run.

    .venv/bin/python benchmarks/worker_start.py [--workers 2] [--rounds 3]

Each round grades the same one-student class twice through grade_class, once with
LocalRunner's workers forked (what the command does) and once spawned (each worker
a new interpreter that imports nbgrader and the grader itself), in alternating order.
Prints each round's wall seconds and CPU seconds (this process and the workers it
waited for; kernels, below a sandbox, are not all counted), and the median ratios
spawn / fork.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.course import COURSE, NOTEBOOKS
from grader.demo.sample_class import notebook_bytes
from grader.demo.submissions import solved
from grader.grading.grade import grade_class
from grader.grading.outfolder import OutFolder
from grader.grading.runner import LocalRunner


def children_cpu() -> float:
    """CPU seconds of every finished child process (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(submissions: Path, out: Path, workers: int, method: str) -> tuple:
    """(wall seconds, CPU seconds) of grading `submissions` into the new OUT `out`
    with workers started by `method`."""
    bundle = OutFolder(out).prepare(COURSE)  # cached: not what is measured
    runner = LocalRunner(workers, bundle, start_method=method)
    cpu, start = children_cpu() + time.process_time(), time.perf_counter()
    grade_class(submissions, out, course=COURSE, progress=False, runner=runner)
    wall = time.perf_counter() - start
    return wall, children_cpu() + time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="worker-start-") as scratch:
        root = Path(scratch)
        students = [f"student-{k}" for k in range(args.workers)]
        for student in students:  # one student per worker: every worker starts
            folder = root / "class" / student
            folder.mkdir(parents=True)
            stem = NOTEBOOKS[0]
            (folder / f"{stem}.ipynb").write_bytes(notebook_bytes(solved(stem)))
        one_run(root / "class", root / "warm-up", args.workers, "fork")
        ratios: dict[str, list[float]] = {"wall": [], "cpu": []}
        for round_ in range(args.rounds):
            order = ("fork", "spawn") if round_ % 2 == 0 else ("spawn", "fork")
            seen = {
                method: one_run(
                    root / "class", root / f"{method}-{round_}", args.workers, method
                )
                for method in order
            }
            for index, name in enumerate(("wall", "cpu")):
                ratios[name].append(seen["spawn"][index] / seen["fork"][index])
            print(
                f"round {round_ + 1}: "
                + ", ".join(
                    f"{method} {wall:.1f} s wall, {cpu:.1f} s CPU"
                    for method, (wall, cpu) in seen.items()
                )
            )
        print(
            f"{args.workers} workers, {len(students)} students of one notebook: "
            f"spawn / fork = {statistics.median(ratios['wall']):.2f} (wall), "
            f"{statistics.median(ratios['cpu']):.2f} (CPU), medians of "
            f"{args.rounds} rounds"
        )


if __name__ == "__main__":
    main()
