"""Which pairs of students to compare: a MinHash LSH index (datasketch) over each
student's rare winnowed hashes.

All pairs of 10,000 students are 50 million comparisons; the index finds the pairs
whose sets of rare winnowed hashes are likely to overlap by about THRESHOLD (Jaccard)
or more in time linear in the class (one MinHash per student, NUM_PERM hash
functions in bands), and only those are scored. A copy hides from the index only if
its rare code is less than about a tenth shared with the other's (a copy padded
with nine times its length of dead code, say).
"""

from __future__ import annotations

import numpy as np
from datasketch import MinHash, MinHashLSH

THRESHOLD = 0.1  # the Jaccard similarity around which pairs become candidates
NUM_PERM = 128  # hash functions per MinHash
SEED = 1  # the same permutations for every student
SCHEME = "affine32"  # datasketch's 32-bit permutations (its default)


def low_bits(value: int) -> int:
    """A winnowed hash as the 32-bit value datasketch's affine32 scheme takes."""
    return int(value) & 0xFFFFFFFF


def candidate_pairs(
    sets: dict[str, np.ndarray],
    threshold: float = THRESHOLD,
    num_perm: int = NUM_PERM,
) -> set[tuple[str, str]]:
    """(a, b) with a < b for every pair of students the index finds alike; `sets`:
    student -> their rare winnowed hashes (students without any are left out)."""
    permutations = MinHash(num_perm=num_perm, seed=SEED).permutations
    index = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sketches: dict[str, MinHash] = {}
    with index.insertion_session() as session:
        for student, hashes in sets.items():
            if len(hashes) == 0:
                continue
            sketch = MinHash(
                num_perm=num_perm, seed=SEED, hashfunc=low_bits,
                permutations=permutations, scheme=SCHEME,
            )  # fmt: skip
            sketch.update_batch(hashes.tolist())
            sketches[student] = sketch
            session.insert(student, sketch, check_duplication=False)
    pairs = set()
    for student, sketch in sketches.items():
        for other in index.query(sketch):
            if other != student:
                pairs.add((student, other) if student < other else (other, student))
    return pairs
