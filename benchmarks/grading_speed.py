"""Grading speed, measured side by side in one run on the same synthetic class.

    .venv/bin/python benchmarks/grading_speed.py [--students 20] [--jobs N]

Times three ways of running the same submitted notebooks:
  floor   bare execution with nbclient, one notebook after another, no grading;
  stock   stock `nbgrader autograde` (sequential, one process);
  grader  `python -m grader grade` (parallel workers, feedback and report included);
then the grader once more on the same OUT (nothing left to grade: a re-run),
and prints the ratios the grader is held to: stock / grader (target >= 1.8) and
grader / (floor / cores) (target <= 1.3). One-time course setup is excluded for both
graders (generate_assignment for stock, OutFolder.prepare for ours).

All three poll for replies the grader's way (grader.kernel.channels): with nbclient as
released, about one slider cell in fifty waits out its whole time limit (nbclient
issue #312), which would inflate floor and stock at random and flatter the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.authoring import stock as stock_autograde
from grader.authoring.prepared import make_course
from grader.course import COURSE, HELPER_PACKAGE, SOURCE_DIR
from grader.demo.sample_class import build_benchmark_class
from grader.grading.grade import grade_class
from grader.grading.outfolder import OutFolder
from grader.kernel.channels import CLIENT_CLASS

SLICED_SHELL = Config({"AsyncKernelManager": {"client_class": CLIENT_CLASS}})


def time_floor(class_dir: Path, scratch: Path) -> tuple[float, int]:
    """Seconds to run every submitted notebook with nbclient; how many there were."""
    notebooks = sorted(class_dir.glob("*/*.ipynb"))
    run_dir = scratch / "floor"
    shutil.copytree(SOURCE_DIR / HELPER_PACKAGE, run_dir / HELPER_PACKAGE)
    start = time.perf_counter()
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(
            notebook,
            config=SLICED_SHELL,
            timeout=120,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(run_dir)}},
        ).execute()
    return time.perf_counter() - start, len(notebooks)


def time_stock(class_dir: Path, scratch: Path) -> float:
    """Seconds for stock, sequential `nbgrader autograde` on the whole class."""
    root = make_course(scratch / "stock", COURSE)
    for student in sorted(p for p in class_dir.iterdir() if p.is_dir()):
        notebooks = {
            path.stem: nbformat.read(path, as_version=4)
            for path in sorted(student.glob("*.ipynb"))
        }
        stock_autograde.submit(root, student.name, notebooks)
    start = time.perf_counter()
    stock_autograde.autograde(root, sliced_shell=True)
    return time.perf_counter() - start


def time_grader(class_dir: Path, scratch: Path, workers: int) -> tuple[float, float]:
    """Seconds for `python -m grader grade` on the whole class, then for a re-run
    on the same OUT (every student already graded)."""
    out = scratch / "grader"
    out.mkdir(parents=True, exist_ok=True)
    OutFolder(out).prepare(COURSE)
    seconds = []
    for _ in ("first", "rerun"):
        start = time.perf_counter()
        grade_class(class_dir, out, workers=workers, course=COURSE, progress=False)
        seconds.append(time.perf_counter() - start)
    return seconds[0], seconds[1]


def main(argv: list[str] | None = None) -> int:
    """Build the class, time the three runs, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", dest="workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        class_dir = scratch / "class"
        build_benchmark_class(class_dir, args.students)
        floor, count = time_floor(class_dir, scratch)
        stock = time_stock(class_dir, scratch)
        ours, rerun = time_grader(class_dir, scratch, args.workers)
    print(f"class: {args.students} students, {count} notebooks; {cores} cores; "
          f"grader --jobs {args.workers}")  # fmt: skip
    print(f"floor  (bare nbclient, sequential): {floor:7.1f} s")
    print(f"stock  (nbgrader autograde):        {stock:7.1f} s")
    print(f"grader (python -m grader grade):    {ours:7.1f} s")
    print(f"rerun  (the same OUT, all graded):  {rerun:7.1f} s")
    print(f"stock / grader          = {stock / ours:.2f}  (target >= 1.8)")
    print(f"grader / (floor/cores)  = {ours / (floor / cores):.2f}  (target <= 1.3)")
    print(f"rerun / grader          = {rerun / ours:.2f}  (nothing is graded again)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
