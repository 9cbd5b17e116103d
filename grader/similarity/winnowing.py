"""Winnowing over normalized answer code (Schleimer, Wilkerson and Aiken,
SIGMOD 2003, the algorithm behind MOSS).

Every run of K normalized tokens (a k-gram) is hashed; in every WINDOW consecutive
k-grams the smallest hash is kept (the rightmost when tied), so that any run of at
least K + WINDOW - 1 tokens two students share gives them at least one winnowed hash
in common, whatever surrounds it. The hashes are the same in every process and on
every machine (BLAKE2b of each token, combined with numpy's wrapping 64-bit
arithmetic): winnowed hashes made on Dask workers meet the coordinator's.

winnow_batch is the plain function the Dask cluster maps over batches of
students (grader.similarity.find_copies).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .tokens import normalized_tokens

K = 6  # tokens in a k-gram: a statement such as `V = V * V [ N ]` is 8
WINDOW = 4  # k-grams per winnowing window: shared runs of 9 tokens are found
BASE = np.uint64(0x100000001B3)  # the k-gram polynomial's base (odd)
EMPTY = np.empty(0, dtype=np.uint64)


@dataclass
class Winnowed:
    """One notebook's winnowed hashes of one student's answer code: each hash with the
    lines (from 1) of the k-gram it was taken from."""

    hashes: np.ndarray  # uint64
    first_lines: np.ndarray  # int32
    last_lines: np.ndarray  # int32

    @classmethod
    def empty(cls) -> Winnowed:
        """No winnowed hash (code shorter than a k-gram)."""
        none = np.empty(0, dtype=np.int32)
        return cls(EMPTY, none, none)

    def without(self, hashes: np.ndarray) -> Winnowed:
        """These winnowed hashes but the ones whose hash is in `hashes` (sorted and
        unique, as all_kgrams and course_boilerplate give them)."""
        if len(hashes) == 0 or len(self.hashes) == 0:
            return self
        where = np.searchsorted(hashes, self.hashes).clip(0, len(hashes) - 1)
        keep = hashes[where] != self.hashes
        return Winnowed(
            self.hashes[keep], self.first_lines[keep], self.last_lines[keep]
        )


@lru_cache(maxsize=65_536)
def token_id(word: str) -> int:
    """A token's 64-bit number, the same in every process."""
    digest = hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "little")


def kgram_hashes(words: list[str], k: int = K) -> np.ndarray:
    """The hash of every run of k consecutive tokens (len(words) - k + 1 of them)."""
    if len(words) < k:
        return EMPTY
    ids = np.fromiter((token_id(word) for word in words), np.uint64, len(words))
    hashes = np.zeros(len(words) - k + 1, dtype=np.uint64)
    for offset in range(k):  # sum of ids[i + j] * BASE ** (k - 1 - j), mod 2**64
        hashes = hashes * BASE + ids[offset : offset + len(hashes)]
    return _mixed(hashes)


def _mixed(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: every bit of the hash depends on every bit
    of the k-gram, so the smallest hash in a window is a fair choice."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


def kept_positions(hashes: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """The positions of the winnowed hashes winnowing keeps: the rightmost smallest hash
    of every window of `window` hashes (the smallest of all when fewer), each once."""
    if len(hashes) == 0:
        return np.empty(0, dtype=np.int64)
    if len(hashes) <= window:
        return np.array([len(hashes) - 1 - int(np.argmin(hashes[::-1]))])
    windows = sliding_window_view(hashes, window)[:, ::-1]
    rightmost = window - 1 - np.argmin(windows, axis=1)
    return np.unique(rightmost + np.arange(len(windows)))


def winnow(code: str) -> Winnowed:
    """The winnowed hashes of one student's answer code in one notebook."""
    tokens = normalized_tokens(code)
    hashes = kgram_hashes(tokens.words)
    if len(hashes) == 0:
        return Winnowed.empty()
    kept = kept_positions(hashes)
    lines = np.asarray(tokens.lines, dtype=np.int32)
    return Winnowed(hashes[kept], lines[kept], lines[kept + K - 1])


def all_kgrams(code: str) -> np.ndarray:
    """Every k-gram hash of `code`, none left out (what is subtracted: the
    released template's and the answer key's code)."""
    return np.unique(kgram_hashes(normalized_tokens(code).words))


StudentCode = tuple[str, dict[str, str]]  # (student, {notebook: answer code})


def winnow_batch(
    batch: list[StudentCode],
) -> list[tuple[str, dict[str, Winnowed]]]:
    """The winnowed hashes of each student of a batch, per notebook (a plain function:
    what the Dask workers run); code handed in alike by several is read once."""
    made: dict[str, Winnowed] = {}

    def once(code: str) -> Winnowed:
        if code not in made:
            made[code] = winnow(code)
        return made[code]

    return [
        (student, {stem: once(code) for stem, code in notebooks.items()})
        for student, notebooks in batch
    ]


def winnow_batch_plain(batch: list[StudentCode]) -> list[list]:
    """winnow_batch as plain data, what a Dask worker sends back (strings, bytes and
    lists: the coordinator unpickles nothing; read_plain_batch reads it)."""
    return [
        [student, {stem: _plain(prints) for stem, prints in notebooks.items()}]
        for student, notebooks in winnow_batch(batch)
    ]


def _plain(prints: Winnowed) -> list[bytes]:
    """One notebook's hashes and lines as three little-endian byte strings."""
    return [
        prints.hashes.astype("<u8").tobytes(),
        prints.first_lines.astype("<i4").tobytes(),
        prints.last_lines.astype("<i4").tobytes(),
    ]


def read_plain_batch(
    batch: list[StudentCode], plain: object
) -> list[tuple[str, dict[str, Winnowed]]]:
    """The winnowed hashes of `batch` from what winnow_batch_plain sent, checked to
    be that batch's: its students in order, their notebooks, at most one hash per
    character of a notebook's code. ValueError when it is anything else."""
    if not isinstance(plain, list) or len(plain) != len(batch):
        raise ValueError("not one entry per student of the batch")
    read = []
    for (student, code), entry in zip(batch, plain, strict=True):
        if not (isinstance(entry, list | tuple) and len(entry) == 2):
            raise ValueError("an entry is not [student, notebooks]")
        named, notebooks = entry
        if named != student or not isinstance(notebooks, dict):
            raise ValueError(f"an entry for {student!r} names another student")
        if not set(notebooks) <= set(code):
            raise ValueError(f"notebooks {student!r} did not hand in")
        read.append(
            (
                student,
                {
                    stem: _read_winnowed(parts, len(code[stem]))
                    for stem, parts in notebooks.items()
                },
            )
        )
    return read


def _read_winnowed(parts: object, most: int) -> Winnowed:
    """One notebook's Winnowed from its three byte strings, within `most` hashes."""
    if not (isinstance(parts, list | tuple) and len(parts) == 3):
        raise ValueError("a notebook's hashes are not three byte strings")
    hashes, first, last = parts
    if not all(isinstance(part, bytes) for part in parts):
        raise ValueError("a notebook's hashes are not bytes")
    count = len(hashes) // 8
    if len(hashes) % 8 or len(first) != 4 * count or len(last) != 4 * count:
        raise ValueError("a notebook's hashes and lines do not match")
    if count > most + 1:
        raise ValueError("more hashes than the code has characters")
    return Winnowed(
        np.frombuffer(hashes, "<u8").astype(np.uint64),
        np.frombuffer(first, "<i4").astype(np.int32),
        np.frombuffer(last, "<i4").astype(np.int32),
    )
