"""How alike two students' answer code is: rare shared winnowed hashes, weighed.

A winnowed hash weighs by how few students have it (inverse document frequency, as
MOSS ignores code common to many submissions): log(N / df) / log(N) for one that
df of the class's N students have (N at least BACKGROUND, so that a small class
does not make every fragment rare), 1 for a student's own, and 0 for one that more
than COMMON_SHARE of the class has (what everyone writes: `1 / (1 + np.exp(-z))`).
The template's and the answer key's fragments are gone before (weight 0).

similarity(a, b) = the weight a and b share / max(the smaller of their weights,
EVIDENCE): the share of the less prolific student's rare code the other has too,
and never high on a line or two (EVIDENCE weighs as much as a few statements of
their own). A pair is flagged from FLAG_AT on.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .winnowing import Winnowed

BACKGROUND = 20  # the class size below which fragments are weighed as in one of 20
COMMON_SHARE = 0.5  # a fragment more than this share of the class has weighs 0
EVIDENCE = 12.0  # rare weight below which no pair reaches a similarity of 1
FLAG_AT = 0.4  # the similarity from which a pair is called a copy
FLOOR = 0.1  # the similarity from which a pair is listed in similarity.csv
NOTEBOOK_EVIDENCE = 2.0  # rare weight shared in a notebook for it to be named
# The candidate index holds the winnowed hashes at most this share of the class has
# (at least INDEX_MIN students): what a copy shares with its original and few
# others. Normalized code has a small vocabulary; fragments a few percent of a big
# class share made every fifth pair of 1,000 synthetic students a candidate.
INDEX_SHARE = 0.002
INDEX_MIN = 5


@dataclass(frozen=True)
class Weights:
    """Each winnowed hash's weight in this class: sorted hashes, their weights, and
    how many students have each."""

    hashes: np.ndarray  # uint64, sorted, unique
    weights: np.ndarray  # float64
    counts: np.ndarray  # int64

    def indexed(self, hashes: np.ndarray, students: int) -> np.ndarray:
        """Those of `hashes` the candidate index holds: weighing something, and
        shared by at most index_limit(students) students."""
        if len(self.hashes) == 0:
            return hashes[:0]
        where = np.searchsorted(self.hashes, hashes).clip(0, len(self.hashes) - 1)
        found = self.hashes[where] == hashes
        keep = found & (self.weights[where] > 0)
        keep &= self.counts[where] <= index_limit(students)
        return hashes[keep]

    def of(self, hashes: np.ndarray) -> np.ndarray:
        """The weights of `hashes` (0 for a hash no student has)."""
        if len(self.hashes) == 0:
            return np.zeros(len(hashes))
        where = np.searchsorted(self.hashes, hashes).clip(0, len(self.hashes) - 1)
        found = self.hashes[where] == hashes
        return np.where(found, self.weights[where], 0.0)


def index_limit(students: int) -> int:
    """The most students a winnowed hash may be shared by to go into the candidate
    index (grader.similarity.index): INDEX_SHARE of the class, at least
    INDEX_MIN."""
    return max(INDEX_MIN, math.ceil(INDEX_SHARE * students))


def class_weights(student_sets: list[np.ndarray]) -> Weights:
    """The weight of every winnowed hash from how many students have it (`student_sets`:
    each student's unique winnowed hashes)."""
    students = sum(1 for hashes in student_sets if len(hashes))
    if not students:
        return Weights(np.empty(0, np.uint64), np.empty(0), np.empty(0, np.int64))
    hashes, counts = np.unique(np.concatenate(student_sets), return_counts=True)
    size = max(students, BACKGROUND)
    weights = np.log(size / counts) / math.log(size)
    common = (counts >= 3) & (counts > COMMON_SHARE * students)
    weights[common] = 0.0
    return Weights(hashes, weights, counts)


@dataclass(frozen=True)
class Region:
    """Lines (from 1) of one matching region: in a's code and in b's."""

    number: int  # from 1, in the order of a's code
    lines_a: tuple[int, int]  # first, last
    lines_b: tuple[tuple[int, int], ...]  # b's lines, as runs (a reordered copy)


@dataclass(frozen=True)
class NotebookMatch:
    """What a pair shares in one notebook."""

    notebook: str
    share: float  # of the smaller of their rare weights in this notebook
    weight: float  # the rare weight they share in it
    regions: tuple[Region, ...]


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose answer code is alike (a < b)."""

    student_a: str
    student_b: str
    similarity: float  # 0 to 1
    shared: float  # the rare weight shared
    flagged: bool  # called a copy (similarity >= FLAG_AT)
    notebooks: tuple[NotebookMatch, ...]  # the most shared first


@dataclass(frozen=True)
class Student:
    """One student's winnowed hashes: per notebook, and as one set with its weight."""

    notebooks: dict[str, Winnowed]
    hashes: np.ndarray  # unique, over every notebook
    weight: float  # the sum of their weights


def similarity(shared: float, weight_a: float, weight_b: float) -> float:
    """Shared rare weight over the smaller of the two students' (at least
    EVIDENCE); 0 to 1."""
    return min(1.0, shared / max(min(weight_a, weight_b), EVIDENCE))


def score_pair(
    a: str, b: str, students: dict[str, Student], weights: Weights
) -> SimilarPair:
    """How alike a's and b's code is, and where."""
    first, second = students[a], students[b]
    common = np.intersect1d(first.hashes, second.hashes, assume_unique=True)
    shared = float(weights.of(common).sum())
    value = similarity(shared, first.weight, second.weight)
    if value < FLOOR:  # not listed: where they match is not needed
        return SimilarPair(a, b, value, shared, False, ())
    matches = [
        match
        for stem in first.notebooks.keys() & second.notebooks.keys()
        if (
            match := notebook_match(
                stem, first.notebooks[stem], second.notebooks[stem], weights
            )
        )
    ]
    matches.sort(key=lambda match: (-match.weight, match.notebook))
    return SimilarPair(a, b, value, shared, value >= FLAG_AT, tuple(matches))


def notebook_match(
    stem: str, a: Winnowed, b: Winnowed, weights: Weights
) -> NotebookMatch | None:
    """What a and b share in one notebook, with the regions; None when too little."""
    weight_a, weight_b = weights.of(a.hashes), weights.of(b.hashes)
    rare_a, rare_b = a.hashes[weight_a > 0], b.hashes[weight_b > 0]
    common = np.intersect1d(rare_a, rare_b)
    if len(common) == 0:
        return None
    shared = float(weights.of(common).sum())
    if shared < NOTEBOOK_EVIDENCE:
        return None
    own_a = float(weights.of(np.unique(a.hashes)).sum())
    own_b = float(weights.of(np.unique(b.hashes)).sum())
    share = similarity(shared, own_a, own_b)
    return NotebookMatch(stem, share, shared, regions(a, b, common))


def regions(a: Winnowed, b: Winnowed, common: np.ndarray) -> tuple[Region, ...]:
    """The matching regions: runs of a's lines covered by shared winnowed hashes, each
    with the lines in b the same winnowed hashes come from."""
    spans_b: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for hash_value, first, last in zip(
        b.hashes.tolist(), b.first_lines.tolist(), b.last_lines.tolist(), strict=True
    ):
        spans_b[hash_value].append((first, last))
    wanted = set(common.tolist())
    spans = sorted(
        (first, last, hash_value)
        for hash_value, first, last in zip(
            a.hashes.tolist(),
            a.first_lines.tolist(),
            a.last_lines.tolist(),
            strict=True,
        )
        if hash_value in wanted
    )
    found: list[Region] = []
    run: list[tuple[int, int, int]] = []
    for span in spans:
        if run and span[0] > max(last for _, last, _ in run) + 1:
            found.append(_region(len(found) + 1, run, spans_b))
            run = []
        run.append(span)
    if run:
        found.append(_region(len(found) + 1, run, spans_b))
    return tuple(found)


def _region(
    number: int,
    run: list[tuple[int, int, int]],
    spans_b: dict[int, list[tuple[int, int]]],
) -> Region:
    """One region from a run of a's spans: b's lines merged into runs."""
    lines_b = sorted(
        {line for _, _, h in run for first, last in spans_b[h] for line in
         range(first, last + 1)}
    )  # fmt: skip
    runs: list[tuple[int, int]] = []
    for line in lines_b:
        if runs and line == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], line)
        else:
            runs.append((line, line))
    first_a = min(first for first, _, _ in run)
    last_a = max(last for _, last, _ in run)
    return Region(number, (first_a, last_a), tuple(runs))


def flagged_groups(pairs: list[SimilarPair]) -> list[list[str]]:
    """The connected components of the flagged pairs: students linked by copies,
    the largest group first (each group's ids sorted)."""
    parent: dict[str, str] = {}

    def root(student: str) -> str:
        parent.setdefault(student, student)
        while parent[student] != student:
            parent[student] = parent[parent[student]]
            student = parent[student]
        return student

    for pair in pairs:
        if pair.flagged:
            parent[root(pair.student_a)] = root(pair.student_b)
    groups: dict[str, list[str]] = defaultdict(list)
    for student in parent:
        groups[root(student)].append(student)
    return sorted((sorted(group) for group in groups.values()),
                  key=lambda group: (-len(group), group))  # fmt: skip
