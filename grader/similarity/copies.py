"""Copies found in a class: the pairs of students whose answer code is alike.

find_copies winnows every student's answer code (on the Dask cluster when
given a `spread`), takes the course's own code out, weighs each winnowed hash by how
few students have it, asks the MinHash LSH index which pairs to compare, and scores
those. It reads nothing but the code it is given and changes no grade: it is
evidence for a person to read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .index import candidate_pairs
from .pairs import (
    FLAG_AT,
    FLOOR,
    SimilarPair,
    Student,
    class_weights,
    flagged_groups,
    score_pair,
)
from .winnowing import (
    StudentCode,
    read_plain_batch,
    winnow_batch,
    winnow_batch_plain,
)

BATCH = 250  # students per task on a Dask cluster
# spread(function, batches): function applied to each batch, the results in order
# (a Dask client's map and gather: grader.grading.cluster.DaskRunner.map).
Spread = Callable[[Callable, list], list]


@dataclass
class CopiesReport:
    """What find_copies found."""

    pairs: list[SimilarPair]  # similarity >= FLOOR, the most similar first
    groups: list[list[str]]  # students linked by flagged pairs, the largest first
    students: int  # students with answer code
    compared: int  # pairs scored (the index's candidates)
    code: dict[str, dict[str, str]] = field(default_factory=dict)  # flagged pairs'
    flag_at: float = FLAG_AT
    floor: float = FLOOR

    @property
    def flagged(self) -> list[SimilarPair]:
        """The pairs called copies, the most similar first."""
        return [pair for pair in self.pairs if pair.flagged]


def local_spread(function: Callable, batches: list) -> list:
    """The batches here, one after the other."""
    return [function(batch) for batch in batches]


def find_copies(
    code: dict[str, dict[str, str]],
    boilerplate: np.ndarray,
    *,
    spread: Spread | None = None,
) -> CopiesReport:
    """The pairs of students in `code` (student -> {notebook: answer code}) whose
    code is alike once `boilerplate` (the course's own k-grams,
    grader.similarity.answers.course_boilerplate) is taken out."""
    items: list[StudentCode] = [
        (student, notebooks) for student, notebooks in sorted(code.items())
    ]
    batches = [items[start : start + BATCH] for start in range(0, len(items), BATCH)]
    sent = (spread or local_spread)(winnow_batch_plain, batches)
    printed = []
    for batch, plain in zip(batches, sent, strict=True):
        try:
            printed.append(read_plain_batch(batch, plain))
        except ValueError:  # not what an honest worker sends: made here instead
            printed.append(winnow_batch(batch))
    students: dict[str, Student] = {}
    sets = []
    for student, notebooks in (entry for batch in printed for entry in batch):
        own = {stem: prints.without(boilerplate) for stem, prints in notebooks.items()}
        hashes = (
            np.unique(np.concatenate([prints.hashes for prints in own.values()]))
            if own
            else np.empty(0, np.uint64)
        )
        students[student] = Student(own, hashes, 0.0)
        sets.append(hashes)
    weights = class_weights(sets)
    with_code = sum(1 for hashes in sets if len(hashes))
    rare: dict[str, np.ndarray] = {}
    for student, entry in students.items():
        total = float(weights.of(entry.hashes).sum())
        students[student] = Student(entry.notebooks, entry.hashes, total)
        rare[student] = weights.indexed(entry.hashes, with_code)
    candidates = candidate_pairs(rare)
    pairs = [
        pair
        for a, b in sorted(candidates)
        if (pair := score_pair(a, b, students, weights)).similarity >= FLOOR
    ]
    pairs.sort(key=lambda pair: (-pair.similarity, -pair.shared,
                                 pair.student_a, pair.student_b))  # fmt: skip
    shown = {
        student
        for pair in pairs
        if pair.flagged
        for student in (pair.student_a, pair.student_b)
    }
    return CopiesReport(
        pairs,
        flagged_groups(pairs),
        with_code,
        len(candidates),
        {student: code[student] for student in sorted(shown)},
    )
