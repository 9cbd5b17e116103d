"""The copies report on 1,000 and 10,000 synthetic students, copies planted, on one
machine; and what a Dask cluster would take.

    .venv/bin/python benchmarks/similarity_speed.py [--sizes 1000 10000] [--workers 8]

Each synthetic student writes three functions of random statements (expressions of
the course's kind: indexing, numpy calls, arithmetic, a loop now and then) and the
lines everyone writes (the sigmoid, a dict of results); one in fifty copies another
student's work under disguises (renamed, literals changed, two lines swapped, dead
code added). For each size it prints the time to read nothing but make every
winnowed hash (what `--scheduler` spreads over the cluster), the whole find_copies
(winnowed hashes, weights, the MinHash LSH index, scoring), the pairs the index had
compared against all pairs, the planted copies found (recall) and the flagged pairs
that are planted copies (precision); then the time all pairs would take, scored
one by one as the index's are (measured on a sample of random pairs), and the
projection for a cluster of --workers workers: the winnowed hashes divided among
them, the rest on the coordinator.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.course import COURSE
from grader.similarity import copies as copies_module
from grader.similarity.answers import course_boilerplate
from grader.similarity.copies import find_copies
from grader.similarity.pairs import Student, class_weights, score_pair

NOTEBOOKS = COURSE.notebooks[:3]
CALLS = ["np.exp", "np.tanh", "np.sin", "np.cos", "np.sqrt", "abs", "float"]
COMMON = [
    "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n",
    '    return {"exp": e, "tanh": t, "sigmoid": s, "loss": l, "dy_pred": d}\n',
]
SAMPLE_PAIRS = 20_000  # random pairs scored to time all pairs


def expression(rng: random.Random, names: list[str], depth: int = 0) -> str:
    """A random expression over `names`."""
    choice = rng.random()
    if depth >= 3 or choice < 0.25:
        leaf = rng.random()
        if leaf < 0.5:
            return rng.choice(names)
        if leaf < 0.8:
            return f"{rng.choice(['x', 'w'])}[{rng.randrange(9)}]"
        return str(rng.choice([1, 2, 0.5, 1.0, 2.0, 3]))
    if choice < 0.45:
        return f"{rng.choice(CALLS)}({expression(rng, names, depth + 1)})"
    operator = rng.choice(["+", "-", "*", "/", "**"])
    left = expression(rng, names, depth + 1)
    right = expression(rng, names, depth + 1)
    return (
        f"({left} {operator} {right})"
        if rng.random() < 0.3
        else (f"{left} {operator} {right}")
    )


def function(rng: random.Random, name: str) -> list[str]:
    """The lines of one random function."""
    names = ["x", "w"]
    lines = [f"def {name}(x, w):"]
    for _ in range(rng.randint(8, 15)):
        target = "".join(
            rng.choice("abcdefghkmnpqrstuvz") for _ in range(rng.randint(1, 6))
        )
        if rng.random() < 0.15:
            lines.append(f"    {target} = 0.0")
            lines.append(f"    for i in range({rng.randint(2, 9)}):")
            lines.append(f"        {target} += {expression(rng, [*names, 'i'])}")
        else:
            lines.append(f"    {target} = {expression(rng, names)}")
        names.append(target)
    lines.append(f"    return {expression(rng, names[2:] or names)}")
    return lines


def student_code(rng: random.Random) -> dict[str, str]:
    """One independent student's answer code in three notebooks."""
    return {
        stem: COMMON[0] + "\n".join(function(rng, f"f{n}")) + "\n" + COMMON[1]
        for n, stem in enumerate(NOTEBOOKS)
    }


def disguised(rng: random.Random, code: str) -> str:
    """A copy: names renamed, numbers changed, two lines swapped, dead code."""
    kept = {"x", "w", "i", "z", "def", "return", "for", "in", "range", "np", "abs"}
    names = sorted(set(re.findall(r"\b[a-z]{1,6}\b", code)) - kept - {"float"})
    renames = {name: f"v_{rng.randrange(10**6)}" for name in names}
    code = re.sub(  # not the library's names after a "." (np.exp)
        r"(?<!\.)\b[a-z]{1,6}\b", lambda m: renames.get(m.group(0), m.group(0)), code
    )
    code = re.sub(r"\b\d+\.\d+\b", lambda m: str(float(m.group(0)) + 0.25), code)
    lines = code.split("\n")
    body = [n for n, line in enumerate(lines) if line.startswith("    v_")]
    if len(body) > 3:
        first = rng.choice(body[:-1])
        lines[first], lines[first + 1] = lines[first + 1], lines[first]
        lines.insert(rng.choice(body), "    unused = len(w) * 0  # checked")
    return "\n".join(lines)


def synthetic_class(size: int, seed: int = 1) -> tuple[dict, set[tuple[str, str]]]:
    """student -> {notebook: code}, and the planted copies' pairs (a copier may
    copy a copier: every two students whose work is one student's)."""
    rng = random.Random(seed)
    code: dict[str, dict[str, str]] = {}
    families: dict[str, str] = {}  # copier -> the student whose work it is
    for number in range(size):
        student = f"s{number:05d}"
        if number >= 10 and number % 50 == 0:
            original = f"s{rng.randrange(number):05d}"
            while original not in code:
                original = f"s{rng.randrange(number):05d}"
            code[student] = {
                stem: disguised(rng, text) for stem, text in code[original].items()
            }
            families[student] = families.get(original, original)
        else:
            code[student] = student_code(rng)
    members: dict[str, list[str]] = {}
    for copier, origin in families.items():
        members.setdefault(origin, [origin]).append(copier)
    planted = {  # every two students of a family: a copy of a copy is a copy
        (a, b) for group in members.values() for a in group for b in group if a < b
    }
    return code, planted


def measure(size: int, workers: int, boilerplate: np.ndarray) -> None:
    code, planted = synthetic_class(size)
    spent: list[float] = []
    printed: list = []

    def timed(function, batches: list) -> list:
        """Here, as without a cluster, timing the winnowed hashes (what a cluster
        spreads) and keeping them for the all-pairs sample below."""
        start = time.perf_counter()
        results = [function(batch) for batch in batches]
        spent.append(time.perf_counter() - start)
        printed.extend(entry for result in results for entry in result)
        return results

    start = time.perf_counter()
    report = find_copies(code, boilerplate, spread=timed)
    whole = time.perf_counter() - start
    winnowing = spent[0]

    flagged = {(p.student_a, p.student_b) for p in report.flagged}
    found = len(flagged & planted)
    all_pairs = size * (size - 1) // 2

    # All pairs, scored one by one as the index's are: timed on a sample.
    students = {}
    for student, notebooks in printed:
        own = {stem: prints.without(boilerplate) for stem, prints in notebooks.items()}
        hashes = np.unique(np.concatenate([p.hashes for p in own.values()]))
        students[student] = Student(own, hashes, 0.0)
    weights = class_weights([entry.hashes for entry in students.values()])
    for student, entry in students.items():
        total = float(weights.of(entry.hashes).sum())
        students[student] = Student(entry.notebooks, entry.hashes, total)
    rng = random.Random(2)
    names = sorted(students)
    sample = [tuple(sorted(rng.sample(names, 2))) for _ in range(SAMPLE_PAIRS)]
    start = time.perf_counter()
    for a, b in sample:
        score_pair(a, b, students, weights)
    per_pair = (time.perf_counter() - start) / len(sample)
    brute = per_pair * all_pairs

    cluster = whole - winnowing + winnowing / workers
    print(
        f"{size:,} students: winnowed hashes {winnowing:.1f} s, find_copies "
        f"{whole:.1f} s; {report.compared:,} pairs compared of {all_pairs:,} "
        f"({report.compared / all_pairs:.4%}); planted copies {len(planted)}, "
        f"found {found} (recall {found / max(len(planted), 1):.3f}), flagged "
        f"{len(flagged)} (precision {found / max(len(flagged), 1):.3f})"
    )
    print(
        f"  all pairs scored one by one: {brute:,.0f} s projected "
        f"({per_pair * 1e6:.0f} µs a pair), {brute / whole:,.0f}x find_copies; "
        f"on {workers} workers: ~{cluster:.1f} s (winnowed hashes "
        f"{winnowing / workers:.1f} s each, the rest {whole - winnowing:.1f} "
        "s on the coordinator, transfers not counted)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=8)
    arguments = parser.parse_args()
    boilerplate = course_boilerplate(COURSE)
    print(f"batches of {copies_module.BATCH} students per Dask task")
    for size in arguments.sizes:
        measure(size, arguments.workers, boilerplate)


if __name__ == "__main__":
    main()
