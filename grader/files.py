"""The grader's files: written whole or not at all; a folder's files walked and
hashed in one fixed order."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write `path` through: a temp file in the same folder,
    os.replace'd over `path` when the block ends, removed if it fails.

    Readers see the old file or the new one, never half of one. The file is
    readable by its owner only (mkstemp's 0600): what the grader writes holds
    students' grades.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with open(handle, "wb") as file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write `content` whole or not at all (atomic_file); text as UTF-8 with its
    newlines as given."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with atomic_file(path) as file:
        file.write(data)


def tree_files(folder: Path) -> list[tuple[str, Path]]:
    """Every file under `folder` but Python's caches: (its path relative to the
    folder, with "/", and its path), in one fixed order."""
    return [
        (path.relative_to(folder).as_posix(), path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.relative_to(folder).parts
    ]


def tree_hash(folder: Path) -> hashlib._Hash:
    """SHA-256 over the files under `folder`, each its relative path and its bytes;
    more may be added to it."""
    digest = hashlib.sha256()
    for relative, path in tree_files(folder):
        digest.update(relative.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest
