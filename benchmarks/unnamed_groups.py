"""Grouping a class's unnamed wrong answers by value, at 1,000 and 10,000 students.

    .venv/bin/python benchmarks/unnamed_groups.py [--rounds 3]

Synthetic failures of one check of 27 numbers (adam_update's w, m and v): 60% of
the students make one of 20 shared mistakes (their values with float noise of 1e-13,
as the same sums written in another order give), 40% a mistake of their own. Times
grader.output.unnamed.group_answers on both class sizes in each round and prints the
median seconds and the ratio of the two (10 times the students).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.output.unnamed import Answer, group_answers

KEYS = [f"{name}[{i}]" for name in ("w", "m", "v") for i in range(9)]
SHARED = 20


def synthetic(students: int, seed: int) -> list[Answer]:
    """The class's failing answers, each group's values with float noise."""
    rng = np.random.default_rng(seed)
    expected = rng.normal(size=len(KEYS))
    shared = expected + rng.normal(size=(SHARED, len(KEYS)))
    answers = []
    for n in range(students):
        if rng.random() < 0.6:
            got = shared[rng.integers(SHARED)] * (1 + rng.normal(0, 1e-13, len(KEYS)))
        else:
            got = expected + rng.normal(size=len(KEYS))
        compared = tuple(zip(KEYS, expected.tolist(), got.tolist()))
        answers.append(
            Answer(f"s{n:05}", "05_optimizers", "test_adam", "adam_update",
                   compared, tuple(KEYS))
        )  # fmt: skip
    return answers


def seconds(answers: list[Answer]) -> tuple[float, int]:
    start = time.perf_counter()
    groups = group_answers(answers)
    return time.perf_counter() - start, len(groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    times: dict[int, list[float]] = {1000: [], 10000: []}
    for round_ in range(rounds):
        for size in times:
            took, groups = seconds(synthetic(size, seed=round_))
            times[size].append(took)
            print(f"round {round_ + 1}: {size:>6} students, {groups:>5} groups, "
                  f"{took:.2f} s")  # fmt: skip
    small, large = (statistics.median(times[size]) for size in times)
    print(f"median: 1,000 students {small:.2f} s, 10,000 students {large:.2f} s "
          f"(ratio {large / small:.0f} for 10 times the students)")  # fmt: skip


if __name__ == "__main__":
    main()
