"""What a failing student costs to grade, with the default limits, side by side.

    .venv/bin/python benchmarks/failure_cost.py

Grades each student of grader.demo.failures alone through `python -m grader grade`
(default time limits: each cell 20 times the answer key's time, at least 10 s): a
correct student, forward_propagation that loops, sleeps, or sleeps ignoring the
interrupt, backward_propagation that kills its kernel, and correct functions five
times slower than the answer key's. Prints each one's wall time, its ratio to the
correct student's, its points, and the targets: a student whose function never
returns costs at most 2 minutes; later notebooks keep their points; the slow
student keeps full marks.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.course import REPO
from grader.demo.failures import OWN_FAILURE, STUDENTS
from grader.demo.sample_class import notebook_bytes

HUNG_TARGET = 120.0  # seconds a student whose function never returns may cost


def grade_alone(student: str, scratch: Path) -> tuple[float, list[dict[str, str]]]:
    """(seconds, grades.csv rows) for one student graded on their own."""
    folder = scratch / student / "class" / student
    for stem, notebook in STUDENTS[student]().items():
        (folder / f"{stem}.ipynb").parent.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.ipynb").write_bytes(notebook_bytes(notebook))
    out = scratch / student / "out"
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(folder.parent), "--out",
         str(out), "--quiet", "--jobs", "1"],
        check=True, cwd=REPO, capture_output=True,
    )  # fmt: skip
    seconds = time.monotonic() - start
    with (out / "grades.csv").open(newline="") as handle:
        return seconds, list(csv.DictReader(handle))


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        results = {name: grade_alone(name, Path(folder)) for name in STUDENTS}
    base = results["correct"][0]
    print(f"{'student':<10}{'seconds':>9}{'x correct':>11}  points per notebook")
    failed = []
    for name, (seconds, rows) in results.items():
        points = " ".join(
            f"{row['notebook'][:2]}:{row['score']}/{row['max_score']}"
            + ("" if row["status"] == "ok" else f"({row['status']})")
            for row in rows
        )
        print(f"{name:<10}{seconds:>9.1f}{seconds / base:>10.2f}x  {points}")
        if name in OWN_FAILURE:
            own, _ = OWN_FAILURE[name]
            later = [
                r for r in rows if r["notebook"] > own and r["status"] != "missing"
            ]
            if any(r["score"] != r["max_score"] for r in later):
                failed.append(f"{name}: a later notebook lost points")
            if name != "crasher" and seconds > HUNG_TARGET:
                failed.append(f"{name}: {seconds:.0f} s > {HUNG_TARGET:.0f} s")
        elif any(r["score"] != r["max_score"] for r in rows):
            failed.append(f"{name}: not full marks")
    print("targets: hung student <= 2 min, later notebooks and the slow student keep")
    print("every point: " + ("met" if not failed else "MISSED: " + "; ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
