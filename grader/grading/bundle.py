"""The class's course as bytes, so that a worker needs no shared file system.

The grading command prepares the course once (OUT/.grader/course: nbgrader's config,
the source with its hidden tests, an empty gradebook with the assignment) and sends
it to every worker as one zip; a worker unpacks each course it is sent once, into the
run's scratch folder (or a temporary folder kept until the process ends).
"""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..files import tree_files

_unpacked: dict[tuple[str, str | None], Path] = {}


@dataclass(frozen=True)
class CourseBundle:
    """A course folder as a zip, named by its fingerprint."""

    fingerprint: str  # the course's fingerprint with the grader's version (OutFolder)
    archive: bytes

    @classmethod
    def of(cls, folder: Path, fingerprint: str) -> CourseBundle:
        """The bundle of a prepared course folder."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for relative, path in tree_files(folder):
                archive.write(path, relative)
        return cls(fingerprint, buffer.getvalue())

    def folder(self, within: str | None = None) -> Path:
        """The course unpacked in this process (once per fingerprint and place):
        in the folder `within` when given (its owner removes it; a local worker
        ends with os._exit, which runs no atexit), else in a temporary folder
        removed when the process exits."""
        key = (self.fingerprint, within)
        if key not in _unpacked:
            target = Path(tempfile.mkdtemp(prefix="grader-course-", dir=within))
            if within is None:
                atexit.register(shutil.rmtree, target, True)
            with zipfile.ZipFile(io.BytesIO(self.archive)) as archive:
                archive.extractall(target)
            _unpacked[key] = target
        return _unpacked[key]
