"""Generate the student release with nbgrader; check the committed one is fresh."""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from ..course import Course
from .prepared import make_course
from .setup_cell import stale_setup_cells, write_setup_cells
from .timing import stale_times, write_times


def build_release(course: Course, workdir: Path) -> Path:
    """Run `nbgrader generate_assignment` on a copy of the course; return the release.

    workdir: an empty directory that becomes a throwaway course root (so the real
    course gets no gradebook.db and a failed run leaves the committed release alone).
    The release is made by nbgrader itself, never taken from the cache.
    """
    return make_course(workdir, course, cached=False) / "release" / course.assignment


def tree_differences(expected: Path, actual: Path) -> list[str]:
    """Relative paths that are missing, extra or different in `actual`."""
    differences: list[str] = []

    def walk(comparison: filecmp.dircmp, prefix: str) -> None:
        differences.extend(f"missing: {prefix}{name}" for name in comparison.left_only)
        differences.extend(f"extra: {prefix}{name}" for name in comparison.right_only)
        _, mismatch, errors = filecmp.cmpfiles(
            comparison.left, comparison.right, comparison.common_files, shallow=False
        )
        differences.extend(f"differs: {prefix}{name}" for name in mismatch + errors)
        for name, sub in comparison.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    ignore = ["__pycache__", ".ipynb_checkpoints"]
    walk(filecmp.dircmp(expected, actual, ignore=ignore), "")
    return sorted(differences)


def write_release(course: Course, measure: bool = False) -> Path:
    """Regenerate the course's release from its source; return its path.

    First writes the setup cell from course.toml into every source notebook; last,
    times the answer key of each notebook whose code changed since it was timed
    (grader.authoring.timing), of every notebook when `measure` asks for it.
    """
    write_setup_cells(course)
    with tempfile.TemporaryDirectory() as tmp:
        built = build_release(course, Path(tmp))
        if course.release_dir.exists():
            shutil.rmtree(course.release_dir)
        shutil.copytree(built, course.release_dir)
    if measure or stale_times(course):
        write_times(course, every=measure)
    return course.release_dir


def stale_release_files(course: Course) -> list[str]:
    """How the committed release differs from a fresh one (empty when fresh)."""
    stale = [
        f"setup cell differs from course.toml: {name}"
        for name in stale_setup_cells(course)
    ]
    stale += stale_times(course)
    if stale:
        return stale
    with tempfile.TemporaryDirectory() as tmp:
        built = build_release(course, Path(tmp))
        if not course.release_dir.exists():
            return [f"missing: {course.release_dir}"]
        return tree_differences(built, course.release_dir)
