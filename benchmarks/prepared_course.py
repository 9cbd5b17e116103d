"""A new OUT, its course prepared by nbgrader vs taken from the cache, in one run.

    .venv/bin/python benchmarks/prepared_course.py [--rounds 3]

Each round prepares a new OUT for the repository's course (OutFolder.prepare, as
the first `python -m grader grade` into a new folder does) twice: with an empty
cache of its own ($XDG_CACHE_HOME in a scratch folder: nbgrader generate_assignment
runs) and then with that cache filled (grader.authoring.prepared). Prints each
round's wall times and the median ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.course import COURSE
from grader.grading.outfolder import OutFolder


def new_out(root: Path) -> float:
    """Seconds to prepare a new OUT at `root`."""
    folder = OutFolder(root)
    folder.bookkeeping.mkdir(parents=True)
    start = time.perf_counter()
    folder.prepare(COURSE)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    cold, warm = [], []
    with tempfile.TemporaryDirectory(prefix="prepared-course-") as scratch:
        for number in range(rounds):
            os.environ["XDG_CACHE_HOME"] = f"{scratch}/cache-{number}"
            cold.append(new_out(Path(scratch) / f"cold-{number}"))
            warm.append(new_out(Path(scratch) / f"warm-{number}"))
            print(f"round {number + 1}: empty cache {cold[-1]:.2f} s, "
                  f"filled cache {warm[-1]:.2f} s")  # fmt: skip
    print(
        f"median: empty cache {statistics.median(cold):.2f} s, filled cache "
        f"{statistics.median(warm):.2f} s; empty / filled "
        f"{statistics.median(cold) / statistics.median(warm):.1f}x"
    )


if __name__ == "__main__":
    main()
